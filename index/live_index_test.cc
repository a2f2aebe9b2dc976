#include "index/live_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "index/lexical_writer.h"

namespace marketsearch {
namespace {

// An empty flat index of `dim` whose store snapshot was taken at `snapshot_unix_ms`.
std::shared_ptr<const IndexSnapshot> Snapshot(int dim, int64_t version, int64_t snapshot_unix_ms) {
  auto flat = std::make_unique<faiss::IndexIDMap2>(new faiss::IndexFlatIP(dim));
  flat->own_fields = true;
  IndexManifest m;
  m.set_version(version);
  m.set_dim(dim);
  m.set_factory("Flat");
  m.set_snapshot_unix_ms(snapshot_unix_ms);
  auto snap = IndexSnapshot::Create(std::move(flat), m, nullptr);
  EXPECT_TRUE(snap.ok()) << snap.status();
  return snap.ok() ? *snap : nullptr;
}

std::string TempDir(const std::string& name) {
  static std::atomic<int> n{0};
  const std::string dir =
      ::testing::TempDir() + "/live_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(LiveAnnIndex, DeltaAppearsAtTheFirstPublishAndKeepsItsSize) {
  LiveAnnIndex live;
  EXPECT_EQ(live.delta(), nullptr);
  auto v1 = Snapshot(8, 1, 1000);
  EXPECT_TRUE(live.Accepts(*v1));
  ASSERT_TRUE(live.Publish(*v1).ok());
  DeltaIndex* delta = live.delta();
  ASSERT_NE(delta, nullptr);
  EXPECT_EQ(delta->dim(), 8);

  // Writes before and after the next version's snapshot: the next version holds the first.
  const std::vector<float> v(8, 0.25f);
  ASSERT_TRUE(delta->Upsert(7, v, ListingAttributes(), 1500).ok());
  ASSERT_TRUE(delta->Upsert(9, v, ListingAttributes(), 2500).ok());
  ASSERT_TRUE(live.Publish(*Snapshot(8, 2, 2000)).ok());
  EXPECT_EQ(live.delta(), delta) << "the delta is never replaced";
  EXPECT_EQ(delta->size(), 1);

  // Another embedding size is refused; the delta stays.
  auto other = Snapshot(16, 3, 3000);
  EXPECT_FALSE(live.Accepts(*other));
  EXPECT_EQ(live.Publish(*other).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(live.delta(), delta);
}

// The race this object removes: a writer asking for the delta while the first version is
// published. Every reader sees null or the one delta, never anything else.
TEST(LiveAnnIndex, ReadersDuringTheFirstPublishSeeNullOrTheDelta) {
  LiveAnnIndex live;
  auto v1 = Snapshot(8, 1, 1000);
  std::atomic<bool> stop{false};
  std::atomic<int> saw_null{0}, saw_delta{0};
  std::thread reader([&] {
    while (!stop) (live.delta() == nullptr ? saw_null : saw_delta)++;
  });
  ASSERT_TRUE(live.Publish(*v1).ok());
  DeltaIndex* delta = live.delta();
  while (saw_delta.load() == 0) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_NE(delta, nullptr);
  EXPECT_GT(saw_delta.load(), 0);
}

TEST(LiveLexicalIndex, DeltaShapedLikeTheFirstVersionAndRefusesAnotherShape) {
  LexicalIndexWriter::Options o;
  o.path = TempDir("lexical_plain");
  o.index_description = false;
  {
    auto w = LexicalIndexWriter::Open(o);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Commit().ok());
  }
  auto plain = LexicalIndex::Open(o.path);
  ASSERT_TRUE(plain.ok()) << plain.status();
  LexicalIndexWriter::Options d = o;
  d.path = TempDir("lexical_description");
  d.index_description = true;
  {
    auto w = LexicalIndexWriter::Open(d);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Commit().ok());
  }
  auto with_description = LexicalIndex::Open(d.path);
  ASSERT_TRUE(with_description.ok()) << with_description.status();

  LiveLexicalIndex live(TempDir("deltas"));
  EXPECT_EQ(live.delta(), nullptr);
  ASSERT_TRUE(live.Publish(plain->get(), 1000).ok());
  LexicalDelta* delta = live.delta();
  ASSERT_NE(delta, nullptr);
  EXPECT_TRUE(live.Accepts(**plain));
  EXPECT_FALSE(live.Accepts(**with_description));
  EXPECT_EQ(live.Publish(with_description->get(), 2000).code(), absl::StatusCode::kFailedPrecondition);
  // No lexical version (ANN only) keeps the delta as it is.
  EXPECT_TRUE(live.Publish(nullptr, 2000).ok());
  EXPECT_EQ(live.delta(), delta);
}

}  // namespace
}  // namespace marketsearch
