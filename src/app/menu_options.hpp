#pragma once

// Item options and allergens as the REST API takes them (docs/API.md, "Options and
// allergens"): option groups on items, chosen options on order lines.

#include <array>
#include <string_view>
#include <vector>

#include "app/api.hpp"
#include "store/types.hpp"

namespace brigade::app {

// The 14 allergens EU food law (Regulation 1169/2011, Annex II) makes restaurants declare.
inline constexpr std::array<std::string_view, 14> kAllergens{
    "celery",   "gluten",  "crustaceans", "eggs",    "fish",   "lupin",    "milk",
    "molluscs", "mustard", "nuts",        "peanuts", "sesame", "soybeans", "sulphites"};

// `option_groups` of an item: [{id?, name, min, max, options: [{id?, name, price_cents,
// available?}]}]; the first problem as a 422 naming its field.
std::optional<ApiError> readOptionGroups(const json::value& v,
                                         std::vector<store::NewOptionGroup>& out);
// `allergens`: names from kAllergens, each at most once.
std::optional<ApiError> readAllergens(const json::value& v, std::vector<std::string>& out);
// An order line's `options`: option ids (the store checks they are the item's).
std::optional<ApiError> readLineOptions(const json::value& v, const std::string& field,
                                        std::vector<int64_t>& out);

}  // namespace brigade::app
