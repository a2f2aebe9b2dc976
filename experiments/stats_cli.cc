// stats_cli: the experiment statistics on data from stdin, for the scipy cross-check
// (experiments/stats_scipy_check.py). Input: one user per line
//   <arm 0|1> <num> <den> <pre_num> <pre_den>
// then a line "holm p1 p2 ..." and a line "sign k n". Output: "name value" lines.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/stats.h"

int main() {
  namespace st = marketsearch::stats;
  std::vector<double> num[2], den[2], pre_num[2], pre_den[2], holm;
  int64_t sign_k = 0, sign_n = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string head;
    in >> head;
    if (head == "holm") {
      for (double p; in >> p;) holm.push_back(p);
    } else if (head == "sign") {
      in >> sign_k >> sign_n;
    } else if (!head.empty()) {
      const int arm = head == "1" ? 1 : 0;
      double m, d, pm, pd;
      if (!(in >> m >> d >> pm >> pd)) {
        std::cerr << "bad line: " << line << "\n";
        return 1;
      }
      num[arm].push_back(m);
      den[arm].push_back(d);
      pre_num[arm].push_back(pm);
      pre_den[arm].push_back(pd);
    }
  }
  const st::RatioEstimate c = st::EstimateRatio(num[0], den[0]);
  const st::RatioEstimate t = st::EstimateRatio(num[1], den[1]);
  const st::Difference d = st::CompareRatios(c, t);
  std::printf("ratio_c %.15g\nratio_t %.15g\nvar_c %.15g\nvar_t %.15g\n", c.value, t.value,
              c.variance, t.variance);
  std::printf("diff %.15g\ndiff_p %.15g\nlift %.15g\nlift_se %.15g\n", d.estimate, d.p_value,
              d.lift, d.lift_se);
  const std::vector<int64_t> users = {c.users, t.users};
  const st::SrmResult srm = st::CheckSampleRatio(users, std::vector<double>{0.5, 0.5});
  std::printf("srm_chi2 %.15g\nsrm_p %.15g\n", srm.chi2, srm.p_value);
  const st::CupedResult cu = st::CupedCompare({num[0], den[0], pre_num[0], pre_den[0]},
                                              {num[1], den[1], pre_num[1], pre_den[1]});
  std::printf("cuped_theta %.15g\ncuped_c %.15g\ncuped_t %.15g\ncuped_var_c %.15g\n"
              "cuped_var_t %.15g\ncuped_p %.15g\n",
              cu.theta, cu.control_adjusted, cu.treatment_adjusted, cu.control_variance,
              cu.treatment_variance, cu.difference.p_value);
  const std::vector<double> adj = st::HolmAdjust(holm);
  for (size_t i = 0; i < adj.size(); ++i) std::printf("holm_%zu %.15g\n", i, adj[i]);
  std::printf("sign_p %.15g\n", st::SignTestPValue(sign_k, sign_n));
  std::printf("planned %lld\n",
              static_cast<long long>(st::PlannedUsersPerArm(c.variance * c.users, 0.01)));
  return 0;
}
