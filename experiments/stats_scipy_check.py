"""Checks the C++ experiment statistics (stats_cli) against an independent numpy/scipy
implementation of the same formulas on random per-user data: delta-method ratio variances
(from the moments, not the linearisation the C++ uses), the difference's p-value, the lift's
SE, the SRM chi-square (scipy.stats.chisquare), CUPED, Holm, the sign test
(scipy.stats.binomtest) and the planned sample size (scipy.stats.norm)."""
import subprocess
import sys

import numpy as np
from scipy import stats


def ratio(m, d):
    n = len(m)
    r = m.sum() / d.sum()
    dbar = d.mean()
    s_m, s_d = m.var(ddof=1), d.var(ddof=1)
    s_md = np.cov(m, d, ddof=1)[0, 1]
    return r, (s_m - 2 * r * s_md + r * r * s_d) / (n * dbar * dbar)


def linearise(m, d):
    r = m.sum() / d.sum()
    return r, (m - r * d) / d.mean()


def main(cli):
    rng = np.random.default_rng(11)
    rows, arms = [], []
    for arm, n, ctr in ((0, 3000, 0.30), (1, 2900, 0.32)):
        propensity = rng.beta(2, 5, n) * ctr / (2 / 7)
        pre_d = rng.poisson(4, n)
        pre_m = rng.binomial(pre_d, np.clip(propensity, 0, 1))
        d = rng.poisson(5, n) + 1
        m = rng.binomial(d, np.clip(propensity, 0, 1))
        arms.append((m.astype(float), d.astype(float), pre_m.astype(float), pre_d.astype(float)))
        rows += ["%d %d %d %d %d" % (arm, a, b, c, e) for a, b, c, e in zip(m, d, pre_m, pre_d)]
    pvals = [0.03, 0.004, 0.3, 0.02, 0.5, 0.011]
    inp = "\n".join(rows) + "\nholm " + " ".join(map(str, pvals)) + "\nsign 540 1000\n"
    out = subprocess.run([cli], input=inp, capture_output=True, text=True, check=True).stdout
    got = {k: float(v) for k, v in (line.split() for line in out.splitlines())}

    exp = {}
    (mc, dc, pmc, pdc), (mt, dt, pmt, pdt) = arms
    exp["ratio_c"], exp["var_c"] = ratio(mc, dc)
    exp["ratio_t"], exp["var_t"] = ratio(mt, dt)
    exp["diff"] = exp["ratio_t"] - exp["ratio_c"]
    se = np.sqrt(exp["var_c"] + exp["var_t"])
    exp["diff_p"] = 2 * stats.norm.sf(abs(exp["diff"]) / se)
    exp["lift"] = exp["ratio_t"] / exp["ratio_c"] - 1
    exp["lift_se"] = np.sqrt(exp["var_t"] / exp["ratio_c"] ** 2
                             + exp["ratio_t"] ** 2 * exp["var_c"] / exp["ratio_c"] ** 4)
    chi = stats.chisquare([len(mc), len(mt)])
    exp["srm_chi2"], exp["srm_p"] = chi.statistic, chi.pvalue
    # CUPED: theta pooled within arms over the linearised post and pre values.
    rc, lc = linearise(mc, dc)
    rt, lt = linearise(mt, dt)
    prc, xc = linearise(pmc, pdc)
    prt, xt = linearise(pmt, pdt)
    cov = np.cov(lc, xc, ddof=1)[0, 1] * (len(lc) - 1) + np.cov(lt, xt, ddof=1)[0, 1] * (len(lt) - 1)
    var = xc.var(ddof=1) * (len(xc) - 1) + xt.var(ddof=1) * (len(xt) - 1)
    theta = cov / var
    exp["cuped_theta"] = theta
    exp["cuped_c"], exp["cuped_t"] = rc - theta * prc, rt - theta * prt
    exp["cuped_var_c"] = (lc - theta * xc).var(ddof=1) / len(lc)
    exp["cuped_var_t"] = (lt - theta * xt).var(ddof=1) / len(lt)
    exp["cuped_p"] = 2 * stats.norm.sf(abs(exp["cuped_t"] - exp["cuped_c"])
                                       / np.sqrt(exp["cuped_var_c"] + exp["cuped_var_t"]))
    order = np.argsort(pvals, kind="stable")
    m = len(pvals)
    adj, running = [0.0] * m, 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * pvals[j]))
        adj[j] = running
    for i, a in enumerate(adj):
        exp["holm_%d" % i] = a
    exp["sign_p"] = stats.binomtest(540, 1000, 0.5).pvalue
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    exp["planned"] = np.ceil(2 * z * z * exp["var_c"] * len(mc) / 0.01 ** 2)

    worst = 0.0
    for k, v in exp.items():
        rel = abs(got[k] - v) / max(abs(v), 1e-12)
        worst = max(worst, rel)
        assert rel < 1e-6 or abs(got[k] - v) < 1e-12, (k, got[k], v)
    print("compared %d statistics, max relative difference %.3g" % (len(exp), worst))


if __name__ == "__main__":
    main(sys.argv[1])
