// A deserialized, immutable model. Learners derive from Model and register a loader for their
// algorithm tags (core/model/loader_registry.hpp); load_model() decodes a payload and
// dispatches to that loader.
// Models are shared read-only between the per-backend cache and the statements using them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/model/algorithm.hpp"
#include "core/model/payload.hpp"

namespace insight {

class Model {
 public:
  Model(Algorithm algorithm, Task task, nlohmann::json meta)
      : algorithm_(algorithm), task_(task), meta_(std::move(meta)) {}
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  Algorithm algorithm() const noexcept { return algorithm_; }
  Task task() const noexcept { return task_; }
  const nlohmann::json& meta() const noexcept { return meta_; }
  // Approximate heap footprint, for the cache's size bound.
  virtual size_t memory_bytes() const = 0;
  // Whether pg_insight's scoring functions can use this model.
  virtual bool scorable() const noexcept { return true; }

 private:
  Algorithm algorithm_;
  Task task_;
  nlohmann::json meta_;
};

using ModelPtr = std::shared_ptr<const Model>;

// A model trained elsewhere and stored as an opaque artifact: versioned, deployable and
// exportable like any other, but pg_insight cannot score it.
class ExternalModel final : public Model {
 public:
  ExternalModel(Task task, nlohmann::json meta, std::vector<uint8_t> body)
      : Model(Algorithm::External, task, std::move(meta)), body_(std::move(body)) {}
  size_t memory_bytes() const override;
  bool scorable() const noexcept override { return false; }
  const std::vector<uint8_t>& body() const noexcept { return body_; }

 private:
  std::vector<uint8_t> body_;
};

// Decodes and validates a payload, then builds the learner's model from it.
// Throws CorruptPayload for anything malformed.
ModelPtr load_model(const uint8_t* data, size_t size);

// Rough size of a JSON value in memory, for memory_bytes().
size_t json_memory_bytes(const nlohmann::json& j);

}  // namespace insight
