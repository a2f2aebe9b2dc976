#!/usr/bin/env python3
"""Writes a synthetic catalog (make_marketplace output) in the public ESCI and WANDS file
formats, so the public-format loaders can be smoke-run end to end without the real files
(which are not on this machine). usage: write_public_fixture.py CATALOG_DIR OUT_DIR"""
import csv
import os
import sys


def main(src, out):
    os.makedirs(os.path.join(out, "esci"), exist_ok=True)
    os.makedirs(os.path.join(out, "wands"), exist_ok=True)
    read = lambda name: list(csv.DictReader(open(os.path.join(src, name), encoding="utf-8"),
                                            delimiter="\t", quoting=csv.QUOTE_NONE))
    listings, queries, judgments = read("listings.tsv"), read("queries.tsv"), read("judgments.tsv")
    split_of = {q["query_id"]: q["split"] for q in queries}
    text_of = {q["query_id"]: q["text"] for q in queries}

    # ESCI: examples + products CSV (comma-separated, RFC 4180 quoting).
    with open(os.path.join(out, "esci", "products.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["product_id", "product_locale", "product_title", "product_description",
                    "product_bullet_point", "product_brand", "product_color"])
        for l in listings:
            colour = dict(kv.split("=", 1) for kv in l["attributes"].split(";") if "=" in kv).get("colour", "")
            w.writerow(["L" + l["listing_id"], "us",
                        l["title"], l["description"], "", l["brand"], colour])
    with open(os.path.join(out, "esci", "examples.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["example_id", "query", "query_id", "product_id", "product_locale", "esci_label",
                    "small_version", "large_version", "split"])
        for i, j in enumerate(judgments):
            split = "test" if split_of[j["query_id"]] == "test" else "train"
            w.writerow([i, text_of[j["query_id"]], j["query_id"], "L" + j["listing_id"], "us",
                        j["label"], 1, 1, split])

    # WANDS: product.csv, query.csv, label.csv (tab-separated).
    wid = {l["listing_id"]: i for i, l in enumerate(listings)}
    with open(os.path.join(out, "wands", "product.csv"), "w", encoding="utf-8") as f:
        f.write("product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\t"
                "product_features\trating_count\taverage_rating\treview_count\n")
        for l in listings:
            f.write("%d\t%s\t%s\t\t%s\t\t10\t%s\t5\n" % (wid[l["listing_id"]], l["title"], l["category"],
                                                       l["description"], l["seller_rating"] or "4.0"))
    with open(os.path.join(out, "wands", "query.csv"), "w", encoding="utf-8") as f:
        f.write("query_id\tquery\tquery_class\n")
        for q in queries:
            f.write("%s\t%s\tsynthetic\n" % (q["query_id"], q["text"]))
    label = {"E": "Exact", "S": "Partial", "C": "Irrelevant", "I": "Irrelevant"}
    with open(os.path.join(out, "wands", "label.csv"), "w", encoding="utf-8") as f:
        f.write("id\tquery_id\tproduct_id\tlabel\n")
        for i, j in enumerate(judgments):
            f.write("%d\t%s\t%d\t%s\n" % (i, j["query_id"], wid[j["listing_id"]], label[j["label"]]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
