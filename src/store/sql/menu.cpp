// The menu: categories and items, versioned.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <set>

#include "store/documents.hpp"

#include "store/errors.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/store_calls.hpp"

namespace brigade::store::sql {

void SqlStore::listMenu(Callback<Menu> done) {
  read<Menu>(
      [this](Connection& c) -> Result<Menu> {
        ReadTransaction txn(c, *dialect_);
        Menu menu;
        std::map<int64_t, size_t> index;
        auto cats = c.statement(std::string(kCategoryColumns) + "ORDER BY position, id");
        if (!cats) return cats.error();
        Step rc;
        while ((rc = cats->step()) == Step::kRow) {
          index[cats->int64(0)] = menu.categories.size();
          menu.categories.push_back(MenuSection{categoryFromRow(*cats), {}});
        }
        if (rc != Step::kDone) return c.lastError(rc);
        auto items = c.statement(std::string(kItemColumns) + "ORDER BY position, id");
        if (!items) return items.error();
        while ((rc = items->step()) == Step::kRow) {
          auto item = itemFromRow(*items);
          if (auto it = index.find(item.category_id); it != index.end()) {
            menu.categories[it->second].items.push_back(std::move(item));
          }
        }
        if (rc != Step::kDone) return c.lastError(rc);
        return menu;
      },
      std::move(done));
}

void SqlStore::getCategory(int64_t id, Callback<MenuCategory> done) {
  read<MenuCategory>([id](Connection& c) { return categoryById(c, id); }, std::move(done));
}

void SqlStore::createCategory(NewMenuCategory category, Callback<MenuCategory> done) {
  write<MenuCategory>(
      [this, category = std::move(category)](Connection& c) -> Result<MenuCategory> {
        auto st = c.statement(
            "INSERT INTO menu_categories(name, position, created_at, updated_at) VALUES (?1, "
            "coalesce(?2, (SELECT coalesce(max(position) + 1, 0) FROM menu_categories)), ?3, "
            "?3) RETURNING id");
        if (!st) return st.error();
        st->bind(1, category.name).bind(2, category.position).bind(3, now());
        const Step rc = st->step();
        if (rc != Step::kRow) return c.lastError(rc);
        const int64_t id = st->int64(0);
        return categoryById(c, id);
      },
      std::move(done));
}

void SqlStore::updateCategory(int64_t id, MenuCategoryPatch patch,
                              std::optional<int64_t> expected_version,
                              Callback<MenuCategory> done) {
  write<MenuCategory>(
      [this, id, patch = std::move(patch),
       expected_version](Connection& c) -> Result<MenuCategory> {
        auto cur = categoryById(c, id);
        if (!cur) return cur.error();
        if (expected_version && *expected_version != cur->version) {
          return versionConflict("category", id, cur->version);
        }
        auto st = c.statement(
            "UPDATE menu_categories SET name = ?, position = ?, updated_at = ?, "
            "version = version + 1 WHERE id = ? AND version = ?");
        if (!st) return st.error();
        st->bind(1, patch.name.value_or(cur->name)).bind(2, patch.position.value_or(cur->position));
        st->bind(3, now()).bind(4, id).bind(5, cur->version);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        // Changed by another writer since it was read (several nodes): not overwritten.
        if (c.changes() == 0) return lostRace(expected_version, "category", id, cur->version + 1);
        return categoryById(c, id);
      },
      std::move(done));
}

void SqlStore::deleteCategory(int64_t id, Callback<void> done) {
  write<void>(
      [id](Connection& c) -> Result<void> {
        auto count = c.statement("SELECT count(*) FROM menu_items WHERE category_id = ?");
        if (!count) return count.error();
        count->bind(1, id);
        if (const Step rc = count->step(); rc != Step::kRow) return c.lastError(rc);
        if (count->int64(0) > 0) {
          return makeError(errc::kCategoryNotEmpty, "category still has menu items");
        }
        auto st = c.statement("DELETE FROM menu_categories WHERE id = ?");
        if (!st) return st.error();
        st->bind(1, id);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        if (c.changes() == 0) return notFound("category", id);
        return {};
      },
      std::move(done));
}

namespace {

// The groups and options a write gives, with ids: kept where given (they must be this item's
// now), new from menu_option_ids where not. Ids are unique across all items, so an order
// line's option id names one option of one item.
Result<std::vector<OptionGroup>> withIds(Connection& c, const std::vector<NewOptionGroup>& given,
                                         const std::vector<OptionGroup>& current) {
  std::set<int64_t> groupIds;
  std::set<int64_t> optionIds;
  for (const auto& g : current) {
    groupIds.insert(g.id);
    for (const auto& o : g.options) optionIds.insert(o.id);
  }
  auto fresh = [&c]() -> Result<int64_t> {
    auto st = c.statement("INSERT INTO menu_option_ids(claimed) VALUES (1) RETURNING id");
    if (!st) return st.error();
    if (const Step rc = st->step(); rc != Step::kRow) return c.lastError(rc);
    return st->int64(0);
  };
  std::set<int64_t> used;
  std::vector<OptionGroup> out;
  for (size_t i = 0; i < given.size(); ++i) {
    const auto& g = given[i];
    const std::string field = "option_groups[" + std::to_string(i) + "]";
    OptionGroup group{0, g.name, g.min, g.max, {}};
    if (g.id) {
      if (!groupIds.count(*g.id) || !used.insert(*g.id).second) {
        return makeError(errc::kInvalid, field + ".id: not an option group of this item");
      }
      group.id = *g.id;
    } else {
      auto id = fresh();
      if (!id) return id.error();
      group.id = *id;
    }
    for (size_t j = 0; j < g.options.size(); ++j) {
      const auto& o = g.options[j];
      MenuOption option{0, o.name, o.price_cents, o.available};
      if (o.id) {
        if (!optionIds.count(*o.id) || !used.insert(*o.id).second) {
          return makeError(errc::kInvalid, field + ".options[" + std::to_string(j) +
                                               "].id: not an option of this item");
        }
        option.id = *o.id;
      } else {
        auto id = fresh();
        if (!id) return id.error();
        option.id = *id;
      }
      group.options.push_back(std::move(option));
    }
    out.push_back(std::move(group));
  }
  return out;
}

std::string json(const boost::json::array& a) {
  return boost::json::serialize(a);
}

}  // namespace

void SqlStore::getMenuItem(int64_t id, Callback<MenuItem> done) {
  read<MenuItem>([id](Connection& c) { return itemById(c, id); }, std::move(done));
}

void SqlStore::createMenuItem(NewMenuItem item, Callback<MenuItem> done) {
  write<MenuItem>(
      [this, item = std::move(item)](Connection& c) -> Result<MenuItem> {
        if (item.price_cents < 0) return makeError(errc::kInvalid, "price_cents: negative");
        if (auto cat = categoryById(c, item.category_id); !cat) {
          return makeError(errc::kUnknownCategory, "category_id: no such category");
        }
        auto groups = withIds(c, item.option_groups, {});
        if (!groups) return groups.error();
        auto st = c.statement(
            "INSERT INTO menu_items(category_id, name, description, price_cents, available, "
            "position, created_at, updated_at, option_groups, allergens) VALUES (?1, ?2, ?3, ?4, "
            "?5, coalesce(?6, (SELECT coalesce(max(position) + 1, 0) FROM menu_items WHERE "
            "category_id = ?1)), ?7, ?7, ?8, ?9) RETURNING id");
        if (!st) return st.error();
        st->bind(1, item.category_id).bind(2, item.name).bind(3, item.description);
        st->bind(4, item.price_cents).bind(5, item.available).bind(6, item.position);
        st->bind(7, now()).bind(8, json(optionGroupsJson(*groups)));
        st->bind(9, json(stringsJson(item.allergens)));
        const Step rc = st->step();
        if (rc != Step::kRow) return c.lastError(rc);
        const int64_t id = st->int64(0);
        return itemById(c, id);
      },
      std::move(done));
}

void SqlStore::updateMenuItem(int64_t id, MenuItemPatch patch,
                              std::optional<int64_t> expected_version, Callback<MenuItem> done) {
  write<MenuItem>(
      [this, id, patch = std::move(patch), expected_version](Connection& c) -> Result<MenuItem> {
        auto cur = itemById(c, id);
        if (!cur) return cur.error();
        if (expected_version && *expected_version != cur->version) {
          return versionConflict("menu item", id, cur->version);
        }
        if (patch.price_cents && *patch.price_cents < 0) {
          return makeError(errc::kInvalid, "price_cents: negative");
        }
        if (patch.category_id && *patch.category_id != cur->category_id) {
          if (auto cat = categoryById(c, *patch.category_id); !cat) {
            return makeError(errc::kUnknownCategory, "category_id: no such category");
          }
        }
        std::vector<OptionGroup> groups = cur->option_groups;
        if (patch.option_groups) {
          auto given = withIds(c, *patch.option_groups, cur->option_groups);
          if (!given) return given.error();
          groups = std::move(*given);
        }
        auto st = c.statement(
            "UPDATE menu_items SET category_id = ?, name = ?, description = ?, price_cents = ?, "
            "available = ?, position = ?, updated_at = ?, option_groups = ?, allergens = ?, "
            "version = version + 1 WHERE id = ? AND version = ?");
        if (!st) return st.error();
        st->bind(1, patch.category_id.value_or(cur->category_id));
        st->bind(2, patch.name.value_or(cur->name));
        st->bind(3, patch.description.value_or(cur->description));
        st->bind(4, patch.price_cents.value_or(cur->price_cents));
        st->bind(5, patch.available.value_or(cur->available));
        st->bind(6, patch.position.value_or(cur->position));
        st->bind(7, now()).bind(8, json(optionGroupsJson(groups)));
        st->bind(9, json(stringsJson(patch.allergens.value_or(cur->allergens)))).bind(10, id);
        st->bind(11, cur->version);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        // Changed by another writer since it was read (several nodes): not overwritten.
        if (c.changes() == 0) return lostRace(expected_version, "menu item", id, cur->version + 1);
        return itemById(c, id);
      },
      std::move(done));
}

void SqlStore::deleteMenuItem(int64_t id, Callback<void> done) {
  write<void>(
      [id](Connection& c) -> Result<void> {
        auto st = c.statement("DELETE FROM menu_items WHERE id = ?");
        if (!st) return st.error();
        st->bind(1, id);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        if (c.changes() == 0) return notFound("menu item", id);
        return {};
      },
      std::move(done));
}

}  // namespace brigade::store::sql
