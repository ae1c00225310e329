// The payload loaders, by algorithm tag. src/core/model does not know the learners: each
// learner area registers the tags it reads with a static PayloadLoaderRegistration in its
// model .cpp, and load_model() dispatches through this registry. Registration happens during
// static initialisation, so every binary links the core library whole (--whole-archive, see
// CMakeLists.txt and the Makefile): a registrar in an object file nothing else references
// would otherwise be dropped by the linker.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>

#include "core/model/algorithm.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"

namespace insight {

// Builds the learner's model from a decoded payload; CorruptPayload for anything
// inconsistent.
using PayloadLoader = ModelPtr (*)(Payload&&);

struct PayloadLoaderEntry {
  Algorithm algorithm;
  // When set, a payload with another task tag is CorruptPayload(wrong_task) before the loader
  // runs; otherwise the loader checks the task itself.
  std::optional<Task> task;
  const char* wrong_task = nullptr;
  PayloadLoader load = nullptr;
};

class PayloadLoaderRegistration {
 public:
  PayloadLoaderRegistration(std::initializer_list<Algorithm> algorithms, PayloadLoader load,
                            std::optional<Task> task = std::nullopt,
                            const char* wrong_task = nullptr);
};

// The loader registered for a tag; nullptr when there is none.
const PayloadLoaderEntry* find_payload_loader(Algorithm algorithm) noexcept;
// How many loaders are registered for a tag (the unit test wants exactly one each).
size_t payload_loader_count(Algorithm algorithm) noexcept;

}  // namespace insight
