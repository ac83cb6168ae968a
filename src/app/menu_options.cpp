#include "app/menu_options.hpp"

#include <algorithm>
#include <set>

#include "app/fields.hpp"

namespace brigade::app {
namespace {

constexpr size_t kMaxOptionNameLength = 200;
constexpr int64_t kMaxOptionPriceCents = 10'000'000;

}  // namespace

std::optional<ApiError> readOptionGroups(const json::value& v,
                                         std::vector<store::NewOptionGroup>& out) {
  if (!v.is_array()) return invalid("option_groups", "must be a list of option groups");
  const auto& groups = v.get_array();
  if (groups.size() > store::kMaxOptionGroups) {
    return invalid("option_groups",
                   "at most " + std::to_string(store::kMaxOptionGroups) + " groups an item");
  }
  std::vector<store::NewOptionGroup> read;
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string field = "option_groups[" + std::to_string(i) + "]";
    if (!groups[i].is_object()) return invalid(field, "must be an object");
    const auto& g = groups[i].get_object();
    Fields f(g, field);
    store::NewOptionGroup group;
    group.id = f.integer("id", false, 1, INT64_MAX);
    auto name = f.text("name", true, 1, kMaxOptionNameLength);
    auto min = f.integer("min", false, 0, static_cast<int64_t>(store::kMaxOptionsPerGroup));
    auto max = f.integer("max", false, 1, static_cast<int64_t>(store::kMaxOptionsPerGroup));
    if (!f.ok()) return f.error();
    const auto* options = g.if_contains("options");
    if (!options || !options->is_array() || options->get_array().empty()) {
      return invalid(field + ".options", "must be a list of at least one option");
    }
    if (options->get_array().size() > store::kMaxOptionsPerGroup) {
      return invalid(field + ".options",
                     "at most " + std::to_string(store::kMaxOptionsPerGroup) + " options a group");
    }
    group.name = *name;
    group.min = min.value_or(0);
    group.max = max.value_or(1);
    const auto count = static_cast<int64_t>(options->get_array().size());
    if (group.min > group.max) return invalid(field + ".min", "must not be above max");
    if (group.max > count) return invalid(field + ".max", "is more than the group's options");
    for (size_t j = 0; j < options->get_array().size(); ++j) {
      const std::string at = field + ".options[" + std::to_string(j) + "]";
      const auto& o = options->get_array()[j];
      if (!o.is_object()) return invalid(at, "must be an object");
      Fields of(o.get_object(), at);
      store::NewMenuOption option;
      option.id = of.integer("id", false, 1, INT64_MAX);
      auto oname = of.text("name", true, 1, kMaxOptionNameLength);
      auto price = of.integer("price_cents", false, 0, kMaxOptionPriceCents);
      auto available = of.boolean("available", false);
      if (!of.ok()) return of.error();
      option.name = *oname;
      option.price_cents = price.value_or(0);
      option.available = available.value_or(true);
      group.options.push_back(std::move(option));
    }
    read.push_back(std::move(group));
  }
  out = std::move(read);
  return std::nullopt;
}

std::optional<ApiError> readAllergens(const json::value& v, std::vector<std::string>& out) {
  if (!v.is_array()) return invalid("allergens", "must be a list of allergen names");
  std::vector<std::string> read;
  std::set<std::string> seen;
  const auto& list = v.get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "allergens[" + std::to_string(i) + "]";
    if (!list[i].is_string()) return invalid(field, "must be an allergen name");
    std::string name(list[i].get_string());
    if (std::find(kAllergens.begin(), kAllergens.end(), name) == kAllergens.end()) {
      return invalid(field,
                     "is not one of the 14 allergens (celery, gluten, crustaceans, eggs, "
                     "fish, lupin, milk, molluscs, mustard, nuts, peanuts, sesame, "
                     "soybeans, sulphites)");
    }
    if (!seen.insert(name).second) return invalid(field, "is listed twice");
    read.push_back(std::move(name));
  }
  out = std::move(read);
  return std::nullopt;
}

std::optional<ApiError> readLineOptions(const json::value& v, const std::string& field,
                                        std::vector<int64_t>& out) {
  if (!v.is_array()) return invalid(field, "must be a list of option ids");
  const auto& list = v.get_array();
  if (list.size() > store::kMaxOptionsPerLine) {
    return invalid(field, "at most " + std::to_string(store::kMaxOptionsPerLine) + " options");
  }
  std::vector<int64_t> read;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_int64() || list[i].get_int64() < 1) {
      return invalid(field + "[" + std::to_string(i) + "]", "must be an option id");
    }
    read.push_back(list[i].get_int64());
  }
  out = std::move(read);
  return std::nullopt;
}

}  // namespace brigade::app
