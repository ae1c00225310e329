// Per-backend LRU cache of deserialized models, keyed by model_id. Catalog rows never change
// once written and model_ids are never reused, so an entry never goes stale: it is only
// evicted to respect the size bound (bytes and entry count). A dropped model's entry is simply
// never asked for again and ages out. (If the catalog itself is recreated, src/pg clears the
// whole cache.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "core/model/model.hpp"

namespace insight {

struct ModelCacheStats {
  uint64_t hits = 0, misses = 0, evictions = 0;
  size_t entries = 0, bytes = 0;          // held now
  size_t max_bytes = 0, max_entries = 0;  // the bounds
};

class ModelCache {
 public:
  ModelCache(size_t max_bytes, size_t max_entries);

  // The cached model, most recently used from now on; nullptr on a miss.
  ModelPtr get(int64_t model_id);
  // Caches a model, evicting the least recently used ones to fit. A model larger than the
  // whole budget is not cached (the caller keeps its own reference and uses it once).
  void put(int64_t model_id, ModelPtr model);
  void erase(int64_t model_id);
  void clear();
  // Shrinking evicts at once.
  void set_limits(size_t max_bytes, size_t max_entries);
  ModelCacheStats stats() const;

 private:
  struct Entry {
    int64_t id;
    ModelPtr model;
    size_t bytes;
  };
  void evict_to_fit(size_t incoming_bytes);

  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<int64_t, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  size_t max_bytes_;
  size_t max_entries_;
  uint64_t hits_ = 0, misses_ = 0, evictions_ = 0;
};

}  // namespace insight
