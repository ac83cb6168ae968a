#include "app/demo.hpp"

#include "core/random.hpp"
#include "store/await.hpp"
#include "store/errors.hpp"

namespace brigade::app {

namespace {

struct DemoItem {
  const char* name;
  const char* description;
  int64_t price;
};

struct DemoCategory {
  const char* name;
  std::vector<DemoItem> items;
};

const std::vector<DemoCategory>& demoMenu() {
  static const std::vector<DemoCategory> menu = {
      {"Starters",
       {{"Garlic bread", "Sourdough, roasted garlic butter, parsley", 550},
        {"Bruschetta", "Tomato, basil, olive oil on grilled bread", 690},
        {"Calamari", "Fried squid rings, lemon aioli", 890},
        {"Soup of the day", "Ask the kitchen; served with bread", 620},
        {"Burrata", "Creamy burrata, cherry tomatoes, pesto", 1090}}},
      {"Pizzas",
       {{"Margherita", "Tomato, fior di latte, basil", 1150},
        {"Diavola", "Tomato, mozzarella, spicy salami, chili oil", 1390},
        {"Quattro formaggi", "Mozzarella, gorgonzola, parmesan, fontina", 1450},
        {"Funghi", "Mushrooms, mozzarella, thyme, truffle oil", 1350},
        {"Vegetariana", "Grilled vegetables, mozzarella, rocket", 1290}}},
      {"Mains",
       {{"Beef burger", "Aged beef, cheddar, pickles, fries", 1590},
        {"Chicken katsu curry", "Crispy chicken, curry sauce, rice", 1490},
        {"Grilled salmon", "Salmon fillet, greens, lemon butter", 1890},
        {"Mushroom risotto", "Arborio rice, porcini, parmesan", 1450},
        {"Falafel bowl", "Falafel, hummus, tabbouleh, flatbread", 1290}}},
      {"Desserts",
       {{"Tiramisu", "Mascarpone, espresso, cocoa", 690},
        {"Chocolate fondant", "Warm centre, vanilla ice cream", 750},
        {"Cheesecake", "Baked vanilla cheesecake, berry compote", 720},
        {"Panna cotta", "Vanilla panna cotta, raspberry coulis", 650},
        {"Gelato", "Three scoops: ask for today's flavours", 590}}},
      {"Drinks",
       {{"Still water", "50 cl bottle", 250},
        {"Sparkling water", "50 cl bottle", 250},
        {"Lemonade", "House-made, fresh lemons and mint", 390},
        {"Cola", "33 cl can", 290},
        {"Iced tea", "Peach black tea, brewed in house", 350}}},
  };
  return menu;
}

}  // namespace

std::vector<DemoAccount> seedDemo(App& app) {
  auto& store = app.store();
  auto menu = store::await<store::Menu>([&](auto done) { store.listMenu(done); });
  if (!menu || !menu->categories.empty()) return {};
  auto admin = store::await<store::User>(
      [&](auto done) { store.findUserByEmail("admin@brigade.local", done); });
  if (admin) return {};  // accounts exist: not a fresh database

  int64_t position = 0;
  for (const auto& category : demoMenu()) {
    auto created = store::await<store::MenuCategory>([&](auto done) {
      store.createCategory({category.name, position++}, done);
    });
    if (!created) return {};
    int64_t itemPosition = 0;
    for (const auto& item : category.items) {
      store::NewMenuItem record;
      record.category_id = created->id;
      record.name = item.name;
      record.description = item.description;
      record.price_cents = item.price;
      record.available = true;
      record.position = itemPosition++;
      (void)store::await<store::MenuItem>([&](auto done) { store.createMenuItem(record, done); });
    }
  }

  std::vector<DemoAccount> accounts = {
      {"admin", "admin@brigade.local", randomId(9)},
      {"customer", "customer@brigade.local", randomId(9)},
      {"rider", "rider@brigade.local", randomId(9)},
  };
  const char* names[] = {"Ada Admin", "Carla Customer", "Ravi Rider"};
  for (size_t i = 0; i < accounts.size(); ++i) {
    auto role = store::parseRole(accounts[i].role);
    auto user = app.createUserBlocking(accounts[i].email, accounts[i].password, names[i], *role);
    if (!user) return {};
  }
  return accounts;
}

}  // namespace brigade::app
