#include "app/status_changed.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "app/views.hpp"

namespace brigade::app {
namespace {

using store::OrderStatus;

store::Order orderIn(int64_t id, OrderStatus status) {
  store::Order o;
  o.id = id;
  o.customer_id = 7;
  o.status = status;
  o.total_cents = 1299;
  o.created_at = "2026-12-02T10:00:00.000Z";
  o.updated_at = o.created_at;
  return o;
}

TEST(StatusLabels, KoreanAsTheTutorialWritesThem) {
  EXPECT_EQ(statusLabel(OrderStatus::kPending, "ko"), "보류 중");
  EXPECT_EQ(statusLabel(OrderStatus::kAccepted, "ko"), "접수됨");
  EXPECT_EQ(statusLabel(OrderStatus::kPreparing, "ko"), "준비 중");
  EXPECT_EQ(statusLabel(OrderStatus::kReady, "ko"), "준비 완료");
  EXPECT_EQ(statusLabel(OrderStatus::kPickedUp, "ko"), "배달 중");
  EXPECT_EQ(statusLabel(OrderStatus::kDelivered, "ko"), "배달 완료");
  EXPECT_EQ(statusLabel(OrderStatus::kRejected, "ko"), "거절됨");
  EXPECT_EQ(statusLabel(OrderStatus::kCancelled, "ko"), "취소됨");
}

TEST(StatusLabels, EnglishIsThePanelsWordsAndTheDefault) {
  EXPECT_EQ(statusLabel(OrderStatus::kPending, "en"), "New");
  EXPECT_EQ(statusLabel(OrderStatus::kPickedUp, "en"), "On the way");
  EXPECT_EQ(statusLabel(OrderStatus::kCancelled, "en"), "Cancelled");
  EXPECT_EQ(statusLabel(OrderStatus::kPending, "fr"), "New");  // no French: English
}

TEST(StatusLabels, OpenMeansPendingThroughPickedUp) {
  const std::vector<OrderStatus> expected = {OrderStatus::kPending, OrderStatus::kAccepted,
                                             OrderStatus::kPreparing, OrderStatus::kReady,
                                             OrderStatus::kPickedUp};
  EXPECT_EQ(openStatuses(), expected);
}

TEST(StatusChangedEvent, IsTheRestDocumentWithTheLabelAndTheCode) {
  auto event = boost::json::parse(statusChangedEvent(
      {orderIn(2, OrderStatus::kPending), orderIn(1, OrderStatus::kReady)}, "ko"));
  const auto& array = event.as_array();
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(array[0].as_string(), "statusChanged");
  const auto& orders = array[1].as_array();
  ASSERT_EQ(orders.size(), 2u);
  auto first = orders[0].as_object();
  EXPECT_EQ(first.at("id").as_int64(), 2);
  EXPECT_EQ(first.at("status").as_string(), "보류 중");
  EXPECT_EQ(first.at("status_code").as_string(), "pending");
  EXPECT_EQ(orders[1].as_object().at("status").as_string(), "준비 완료");
  // Everything else is the REST document, unchanged.
  auto rest = toJson(orderIn(2, OrderStatus::kPending));
  first.erase("status");
  first.erase("status_code");
  rest.erase("status");
  EXPECT_EQ(first, rest);
}

TEST(StatusChangedEvent, NoOpenOrdersIsAnEmptyList) {
  EXPECT_EQ(statusChangedEvent({}, "en"), R"(["statusChanged",[]])");
}

}  // namespace
}  // namespace brigade::app
