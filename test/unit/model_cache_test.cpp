#include "core/model/model_cache.hpp"

#include <gtest/gtest.h>

namespace insight {
namespace {

ModelPtr model_of_size(size_t body_bytes) {
  return std::make_shared<ExternalModel>(Task::Anomaly, nlohmann::json::object(),
                                         std::vector<uint8_t>(body_bytes, 7));
}

TEST(ModelCache, HitMissAndRecency) {
  ModelCache cache(1u << 20, 2);
  EXPECT_EQ(cache.get(1), nullptr);
  auto a = model_of_size(100), b = model_of_size(100), c = model_of_size(100);
  cache.put(1, a);
  cache.put(2, b);
  EXPECT_EQ(cache.get(1), a);  // 1 is now most recent, 2 least
  cache.put(3, c);             // evicts 2
  EXPECT_EQ(cache.get(2), nullptr);
  EXPECT_EQ(cache.get(1), a);
  EXPECT_EQ(cache.get(3), c);
  const auto s = cache.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 2u);
}

TEST(ModelCache, ByteBudgetIsRespected) {
  const size_t one = model_of_size(10000)->memory_bytes();
  ModelCache cache(one * 3 + one / 2, 100);
  for (int64_t id = 1; id <= 10; ++id) {
    cache.put(id, model_of_size(10000));
    EXPECT_LE(cache.stats().bytes, cache.stats().max_bytes);
  }
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_NE(cache.get(10), nullptr);
  EXPECT_NE(cache.get(8), nullptr);
  EXPECT_EQ(cache.get(7), nullptr);
}

TEST(ModelCache, OversizedModelIsNotCachedButStaysUsable) {
  ModelCache cache(1000, 10);
  auto big = model_of_size(5000);
  cache.put(1, big);
  EXPECT_EQ(cache.get(1), nullptr);
  EXPECT_EQ(cache.stats().bytes, 0u);
  EXPECT_EQ(big->meta(), nlohmann::json::object());  // caller's reference still valid
}

TEST(ModelCache, EvictedModelOutlivesTheCacheWhileInUse) {
  ModelCache cache(1u << 20, 1);
  auto a = model_of_size(10);
  cache.put(1, a);
  ModelPtr in_use = cache.get(1);
  cache.put(2, model_of_size(10));  // evicts 1
  a.reset();
  ASSERT_NE(in_use, nullptr);
  EXPECT_EQ(in_use->task(), Task::Anomaly);  // shared ownership keeps it alive
}

TEST(ModelCache, EraseReplaceClearAndShrink) {
  ModelCache cache(1u << 20, 10);
  for (int64_t id = 1; id <= 5; ++id) cache.put(id, model_of_size(100));
  cache.put(3, model_of_size(200));  // replace keeps one entry
  EXPECT_EQ(cache.stats().entries, 5u);
  cache.erase(3);
  cache.erase(42);  // absent: no-op
  EXPECT_EQ(cache.stats().entries, 4u);
  cache.set_limits(1u << 20, 2);
  EXPECT_EQ(cache.stats().entries, 2u);
  cache.clear();
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

}  // namespace
}  // namespace insight
