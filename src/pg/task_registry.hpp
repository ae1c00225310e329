// The tasks of one kind of work (training, evaluation): each area's file registers its
// implementation of the kind's interface under its task's name, constructed from the task's
// options (JSON); the kind's one SQL entry point makes the implementation a call names.
//   const insight::pg::Registration<TaskTraining, ForecastTraining> kForecastTask("forecast");
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/common/error.hpp"

namespace insight::pg {

template <typename Interface>
class TaskRegistry {
 public:
  // Parses and validates the options (22023 naming the option): the task's constructor.
  using Factory = std::unique_ptr<Interface> (*)(const nlohmann::json& options);

  static void add(const char* task, Factory factory) { entries().emplace(task, factory); }

  // The task's implementation for these options; 22023 listing the tasks for an unknown one.
  static std::unique_ptr<Interface> make(const std::string& task, const nlohmann::json& options,
                                         const char* kind) {
    const auto entry = entries().find(task);
    if (entry == entries().end()) {
      std::string known;
      for (const auto& [name, factory] : entries()) known += (known.empty() ? "" : ", ") + name;
      throw InvalidParameter("unknown " + std::string(kind) + " task " + insight::echo(task),
                             "task must be one of: " + known + ".");
    }
    return entry->second(options);
  }

 private:
  static std::map<std::string, Factory>& entries() {
    static std::map<std::string, Factory> registry;
    return registry;
  }
};

// A static one of these registers Implementation (constructed from the options JSON) for task.
template <typename Interface, typename Implementation>
struct Registration {
  explicit Registration(const char* task) {
    TaskRegistry<Interface>::add(task,
                                 [](const nlohmann::json& options) -> std::unique_ptr<Interface> {
                                   return std::make_unique<Implementation>(options);
                                 });
  }
};

}  // namespace insight::pg
