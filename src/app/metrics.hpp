#pragma once

// What /metrics shows (Prometheus text format, through prometheus-cpp's registry and text
// serializer; docs/OPERATIONS.md lists every family). Events that happen in the app are
// counted as they happen (count(), observeRequest()); what lower layers keep themselves
// (the engine's sessions, the store's commit histogram, the process's memory) is read at
// each scrape by the hooks the owners register (onScrape()), so that those layers do not
// depend on the metrics library. Thread-safe.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.hpp"

namespace brigade::app {

class Metrics {
 public:
  Metrics();

  // A counter family, created at its first use; `labels` pick the series.
  void count(const std::string& family, const std::string& help,
             const prometheus::Labels& labels = {}, double by = 1);
  // Sets a counter to a total kept elsewhere (it only moves up; a smaller total is ignored).
  void setTotal(const std::string& family, const std::string& help,
                const prometheus::Labels& labels, double total);
  void setGauge(const std::string& family, const std::string& help,
                const prometheus::Labels& labels, double value);
  // Moves a histogram to a snapshot kept elsewhere (AtomicHistogram): adds what was
  // observed since the last call.
  void setHistogram(const std::string& family, const std::string& help,
                    const AtomicHistogram::Snapshot& snapshot);

  // One answered HTTP request (http::HttpOptions::observe).
  void observeRequest(std::string_view route, int status, double seconds);

  // Runs before every scrape, to set what is read from elsewhere. Start-up only.
  void onScrape(std::function<void(Metrics&)> hook);
  // The text of /metrics.
  std::string scrape();

 private:
  prometheus::Family<prometheus::Counter>& counterFamily(const std::string& name,
                                                         const std::string& help);
  prometheus::Family<prometheus::Gauge>& gaugeFamily(const std::string& name,
                                                     const std::string& help);

  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mutex_;  // the families' maps below, and the hooks while they run
  std::map<std::string, prometheus::Family<prometheus::Counter>*, std::less<>> counters_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*, std::less<>> gauges_;
  struct Mirrored {
    prometheus::Histogram* histogram;
    AtomicHistogram::Snapshot last;
  };
  std::map<std::string, Mirrored, std::less<>> histograms_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* requestSeconds_;
  std::vector<std::function<void(Metrics&)>> hooks_;
};

// Refusals by a rate limit, by `limit`: registration, login, connect, location.
inline constexpr const char* kRateLimitedMetric = "brigade_rate_limited_total";
inline constexpr const char* kRateLimitedHelp = "Requests refused by a rate limit, by limit";

// Buckets of request latency, in seconds.
inline const std::vector<double> kRequestSecondsBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

// The process's own: resident memory and open descriptors (Linux /proc), as
// process_resident_memory_bytes and process_open_fds.
void addProcessMetrics(Metrics& metrics);

}  // namespace brigade::app
