#pragma once

// Stable error codes returned by every Store backend in Error::code. The REST layer maps
// them to status codes; tests assert on them, so they never change meaning.
namespace brigade::store::errc {

inline constexpr const char* kNotFound = "not_found";
inline constexpr const char* kVersionConflict = "version_conflict";
// Inside the store only: another writer changed the record after this write read it, and
// the caller named no version: the write runs again on what is there now (a version
// conflict after kMaxRaceAttempts).
inline constexpr const char* kRaced = "raced";
inline constexpr const char* kConflict = "conflict";  // any other uniqueness/constraint clash
inline constexpr const char* kEmailTaken = "email_taken";
inline constexpr const char* kCategoryNotEmpty = "category_not_empty";
inline constexpr const char* kUnknownCategory = "unknown_category";
inline constexpr const char* kUnknownItem = "unknown_item";
inline constexpr const char* kItemUnavailable = "item_unavailable";
inline constexpr const char* kUnknownOption = "unknown_option";  // "items[i].options[j]: ..."
inline constexpr const char* kOptionUnavailable = "option_unavailable";
inline constexpr const char* kIdempotencyKeyReused = "idempotency_key_reused";
inline constexpr const char* kNotARider = "not_a_rider";
inline constexpr const char* kInvalid = "invalid";
inline constexpr const char* kHistoryLost = "history_lost";
inline constexpr const char* kBusy = "database_busy";
// The database cannot be reached (PostgreSQL down or restarting); the write did not happen
// or its outcome is unknown, so retry with the same Idempotency-Key.
inline constexpr const char* kUnavailable = "database_unavailable";
inline constexpr const char* kStorage = "storage_error";
inline constexpr const char* kClosed = "store_closed";

}  // namespace brigade::store::errc
