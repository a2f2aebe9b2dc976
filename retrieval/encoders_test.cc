// The encoders on the ModelRunner seam, with a fake model: what they hand the model (EmbeddingBag
// ids + offsets, categories, dense features) and that they return its output unchanged.
#include "retrieval/encoders.h"

#include <memory>

#include "gtest/gtest.h"
#include "retrieval/fake_model_runner.h"

namespace marketsearch {
namespace {

using Inputs = absl::Span<const InputTensor>;

ModelManifest Manifest(const std::string& name, int dim) {
  ModelManifest m;
  m.set_model_name(name);
  m.set_version(3);
  m.set_embedding_dim(dim);
  return m;
}

// One row per bag (offsets input), each [bag size, first id].
absl::StatusOr<FloatMatrix> BagSummary(Inputs in) {
  const std::vector<int64_t> ids = FakeModelRunner::Int64Values(in[0]);
  const std::vector<int64_t> off = FakeModelRunner::Int64Values(in[1]);
  FloatMatrix m;
  m.rows = static_cast<int64_t>(off.size());
  m.cols = 2;
  for (size_t b = 0; b < off.size(); ++b) {
    const int64_t end = b + 1 < off.size() ? off[b + 1] : static_cast<int64_t>(ids.size());
    m.data.push_back(static_cast<float>(end - off[b]));
    m.data.push_back(end > off[b] ? static_cast<float>(ids[off[b]]) : -1.0f);
  }
  return m;
}

TEST(QueryEncoder, HandsTheParsedQueryIdsToTheModelAsOneBag) {
  auto runner = std::make_shared<FakeModelRunner>(Manifest("query_tower", 2), BagSummary);
  const QueryEncoder encoder(runner);
  EXPECT_EQ(encoder.dim(), 2);
  EXPECT_EQ(encoder.version(), 3);
  const ParsedQuery q = ParseQuery("Grey  SOFA!");
  ASSERT_FALSE(q.feature_ids.empty());
  auto out = encoder.Encode(q);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->rows, 1);
  EXPECT_EQ(out->data[0], static_cast<float>(q.feature_ids.size()));
  EXPECT_EQ(out->data[1], static_cast<float>(q.feature_ids[0]));
  EXPECT_EQ(runner->calls(), 1);
}

TEST(QueryEncoder, BatchOfQueriesIsOneForwardWithOneBagPerQuery) {
  auto runner = std::make_shared<FakeModelRunner>(Manifest("query_tower", 2), BagSummary);
  const QueryEncoder encoder(runner);
  const std::vector<std::string> queries = {"grey sofa", "", "used iphone 12 128gb"};
  auto out = encoder.Encode(queries);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->rows, 3);
  EXPECT_EQ(runner->calls(), 1);
  for (int i = 0; i < 3; ++i) {
    // The batch path computes the same ids as the request path's ParseQuery.
    EXPECT_EQ(out->row(i)[0], static_cast<float>(ParseQuery(queries[i]).feature_ids.size())) << i;
  }
}

TEST(QueryEncoder, PassesTheModelsErrorThrough) {
  auto runner = std::make_shared<FakeModelRunner>(
      Manifest("query_tower", 2), [](Inputs) -> absl::StatusOr<FloatMatrix> {
        return absl::InternalError("forward failed: boom");
      });
  auto out = QueryEncoder(runner).Encode(ParseQuery("sofa"));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(out.status().message().find("boom"), std::string::npos);
}

TEST(ListingEncoder, HandsTextCategoryAndDenseFeaturesPerListing) {
  std::vector<std::vector<int64_t>> shapes;
  auto runner = std::make_shared<FakeModelRunner>(
      Manifest("listing_tower", 2), [&](Inputs in) -> absl::StatusOr<FloatMatrix> {
        EXPECT_EQ(in.size(), 4u);
        for (const InputTensor& t : in) shapes.push_back(t.shape);
        EXPECT_EQ(in[3].dtype, InputTensor::Dtype::kFloat32);
        return BagSummary(in);
      });
  Listing a, b;
  a.set_title("grey sofa");
  a.set_category("sofas");
  b.set_title("iphone 12");
  b.set_category("phones");
  const std::vector<Listing> listings = {a, b};
  auto out = ListingEncoder(runner).Encode(listings, CatalogStats());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->rows, 2);
  ASSERT_EQ(shapes.size(), 4u);
  EXPECT_EQ(shapes[1], (std::vector<int64_t>{2}));                    // offsets: one per listing
  EXPECT_EQ(shapes[2], (std::vector<int64_t>{2}));                    // category ids
  EXPECT_EQ(shapes[3], (std::vector<int64_t>{2, kListingDenseDim}));  // dense features
  EXPECT_EQ(out->data[0], static_cast<float>(ListingFeatureIds(a).size()));
}

}  // namespace
}  // namespace marketsearch
