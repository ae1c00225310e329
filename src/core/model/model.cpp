#include "core/model/model.hpp"

#include "core/common/error.hpp"
#include "core/model/loader_registry.hpp"

namespace insight {

size_t json_memory_bytes(const nlohmann::json& j) {
  size_t total = sizeof(nlohmann::json);
  if (j.is_string()) total += j.get_ref<const std::string&>().size();
  if (j.is_structured()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (j.is_object()) total += it.key().size() + 32;
      total += json_memory_bytes(*it);
    }
  }
  return total;
}

size_t ExternalModel::memory_bytes() const {
  return sizeof(*this) + body_.capacity() + json_memory_bytes(meta());
}

ModelPtr load_model(const uint8_t* data, size_t size) {
  Payload p = decode_payload(data, size);
  if (p.algorithm == Algorithm::External)
    return std::make_shared<ExternalModel>(p.task, std::move(p.meta), std::move(p.body));
  if (const PayloadLoaderEntry* loader = find_payload_loader(p.algorithm)) {
    if (loader->task && p.task != *loader->task) throw CorruptPayload(loader->wrong_task);
    return loader->load(std::move(p));
  }
  throw CorruptPayload("model payload is corrupt: no loader for algorithm " +
                       std::string(algorithm_name(p.algorithm)));
}

}  // namespace insight
