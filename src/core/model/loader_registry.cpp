#include "core/model/loader_registry.hpp"

#include <vector>

namespace insight {
namespace {

// A function-local static: registrars in other translation units may run before any global
// of this one is initialised.
std::vector<PayloadLoaderEntry>& entries() {
  static std::vector<PayloadLoaderEntry> all;
  return all;
}

}  // namespace

PayloadLoaderRegistration::PayloadLoaderRegistration(std::initializer_list<Algorithm> algorithms,
                                                     PayloadLoader load, std::optional<Task> task,
                                                     const char* wrong_task) {
  for (const Algorithm a : algorithms) entries().push_back({a, task, wrong_task, load});
}

const PayloadLoaderEntry* find_payload_loader(Algorithm algorithm) noexcept {
  for (const auto& e : entries())
    if (e.algorithm == algorithm) return &e;
  return nullptr;
}

size_t payload_loader_count(Algorithm algorithm) noexcept {
  size_t n = 0;
  for (const auto& e : entries()) n += e.algorithm == algorithm ? 1 : 0;
  return n;
}

}  // namespace insight
