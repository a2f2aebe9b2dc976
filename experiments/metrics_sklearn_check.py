"""Checks the C++ NDCG@k against scikit-learn's ndcg_score on random ESCI-graded cases."""
import random
import subprocess
import sys

import numpy as np
from sklearn.metrics import ndcg_score

GAIN = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}


def main(cli):
    rng = random.Random(5)
    cases, expected = [], []
    while len(cases) < 300:
        ids = rng.sample(range(1, 200), rng.randint(3, 40))
        judged = {i: rng.choice("ESCII") for i in ids if rng.random() < 0.8}
        if not any(GAIN[l] > 0 for l in judged.values()):
            continue
        ranked = ids[:]
        rng.shuffle(ranked)
        ranked = ranked[:rng.randint(1, len(ranked))]
        k = rng.randint(1, len(ranked))  # k <= |ranked|: only ranked positions count
        docs = sorted(set(ids))
        y_true = np.array([[GAIN.get(judged.get(d, "I"), 0.0) for d in docs]])
        pos = {d: r for r, d in enumerate(ranked)}
        y_score = np.array([[len(docs) - pos[d] if d in pos else -1.0 - 0.001 * j
                             for j, d in enumerate(docs)]])
        expected.append(ndcg_score(y_true, y_score, k=k))
        cases.append("%d\t%s\t%s" % (k, ",".join(map(str, ranked)),
                                     ",".join("%d:%s" % (d, l) for d, l in judged.items())))
    out = subprocess.run([cli], input="\n".join(cases) + "\n", capture_output=True, text=True,
                         check=True).stdout.split()
    worst = max(abs(float(a) - b) for a, b in zip(out, expected))
    print("compared %d cases, max |C++ - sklearn| = %.3g" % (len(cases), worst))
    assert len(out) == len(cases)
    assert worst < 1e-9, worst


if __name__ == "__main__":
    main(sys.argv[1])
