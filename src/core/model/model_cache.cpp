#include "core/model/model_cache.hpp"

namespace insight {

ModelCache::ModelCache(size_t max_bytes, size_t max_entries)
    : max_bytes_(max_bytes), max_entries_(max_entries) {}

ModelPtr ModelCache::get(int64_t model_id) {
  auto it = index_.find(model_id);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->model;
}

void ModelCache::put(int64_t model_id, ModelPtr model) {
  if (!model) return;
  erase(model_id);
  const size_t bytes = model->memory_bytes();
  if (bytes > max_bytes_ || max_entries_ == 0) return;
  evict_to_fit(bytes);
  lru_.push_front(Entry{model_id, std::move(model), bytes});
  index_[model_id] = lru_.begin();
  bytes_ += bytes;
}

void ModelCache::erase(int64_t model_id) {
  auto it = index_.find(model_id);
  if (it == index_.end()) return;
  bytes_ -= it->second->bytes;
  lru_.erase(it->second);
  index_.erase(it);
}

void ModelCache::clear() {
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

void ModelCache::set_limits(size_t max_bytes, size_t max_entries) {
  max_bytes_ = max_bytes;
  max_entries_ = max_entries;
  evict_to_fit(0);
}

void ModelCache::evict_to_fit(size_t incoming_bytes) {
  const size_t incoming_entries = incoming_bytes > 0 ? 1 : 0;
  while (!lru_.empty() &&
         (bytes_ + incoming_bytes > max_bytes_ || lru_.size() + incoming_entries > max_entries_)) {
    const Entry& victim = lru_.back();
    bytes_ -= victim.bytes;
    index_.erase(victim.id);
    lru_.pop_back();
    ++evictions_;
  }
}

ModelCacheStats ModelCache::stats() const {
  ModelCacheStats s;
  s.hits = hits_;
  s.misses = misses_;
  s.evictions = evictions_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  s.max_bytes = max_bytes_;
  s.max_entries = max_entries_;
  return s;
}

}  // namespace insight
