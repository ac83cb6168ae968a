#include "app/metrics.hpp"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace brigade::app {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("brigade_http_requests_total")
                   .Help("HTTP requests answered, by route and status")
                   .Register(*registry_);
  requestSeconds_ = &prometheus::BuildHistogram()
                         .Name("brigade_http_request_duration_seconds")
                         .Help(
                             "Time from a request's arrival to its answer, by route (long-polls "
                             "included: they wait for data)")
                         .Register(*registry_);
}

prometheus::Family<prometheus::Counter>& Metrics::counterFamily(const std::string& name,
                                                                const std::string& help) {
  auto it = counters_.find(name);
  if (it != counters_.end()) return *it->second;
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  counters_.emplace(name, &family);
  return family;
}

prometheus::Family<prometheus::Gauge>& Metrics::gaugeFamily(const std::string& name,
                                                            const std::string& help) {
  auto it = gauges_.find(name);
  if (it != gauges_.end()) return *it->second;
  auto& family = prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  gauges_.emplace(name, &family);
  return family;
}

void Metrics::count(const std::string& family, const std::string& help,
                    const prometheus::Labels& labels, double by) {
  std::lock_guard lock(mutex_);
  counterFamily(family, help).Add(labels).Increment(by);
}

void Metrics::setTotal(const std::string& family, const std::string& help,
                       const prometheus::Labels& labels, double total) {
  std::lock_guard lock(mutex_);
  auto& counter = counterFamily(family, help).Add(labels);
  if (total > counter.Value()) counter.Increment(total - counter.Value());
}

void Metrics::setGauge(const std::string& family, const std::string& help,
                       const prometheus::Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  gaugeFamily(family, help).Add(labels).Set(value);
}

void Metrics::setHistogram(const std::string& family, const std::string& help,
                           const AtomicHistogram::Snapshot& snapshot) {
  std::lock_guard lock(mutex_);
  auto it = histograms_.find(family);
  if (it == histograms_.end()) {
    auto& built = prometheus::BuildHistogram().Name(family).Help(help).Register(*registry_);
    auto& histogram = built.Add({}, prometheus::Histogram::BucketBoundaries(snapshot.bounds));
    it = histograms_.emplace(family, Mirrored{&histogram, {}}).first;
  }
  auto& mirrored = it->second;
  if (mirrored.last.counts.empty()) {
    mirrored.last.bounds = snapshot.bounds;
    mirrored.last.counts.assign(snapshot.counts.size(), 0);
  }
  if (mirrored.last.bounds != snapshot.bounds) return;
  std::vector<double> added(snapshot.counts.size());
  for (size_t i = 0; i < added.size(); ++i) {
    added[i] = static_cast<double>(snapshot.counts[i] - mirrored.last.counts[i]);
  }
  mirrored.histogram->ObserveMultiple(added, snapshot.sum - mirrored.last.sum);
  mirrored.last = snapshot;
}

void Metrics::observeRequest(std::string_view route, int status, double seconds) {
  const std::string r(route);
  requests_->Add({{"route", r}, {"status", std::to_string(status)}}).Increment();
  requestSeconds_->Add({{"route", r}}, kRequestSecondsBuckets).Observe(seconds);
}

void Metrics::onScrape(std::function<void(Metrics&)> hook) {
  std::lock_guard lock(mutex_);
  hooks_.push_back(std::move(hook));
}

std::string Metrics::scrape() {
  std::vector<std::function<void(Metrics&)>> hooks;
  {
    std::lock_guard lock(mutex_);
    hooks = hooks_;
  }
  for (const auto& hook : hooks) hook(*this);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

void addProcessMetrics(Metrics& metrics) {
  metrics.onScrape([](Metrics& m) {
    long pages = 0;
    long resident = 0;
    if (std::ifstream statm("/proc/self/statm"); statm >> pages >> resident) {
      m.setGauge("process_resident_memory_bytes", "Resident memory size in bytes", {},
                 static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)));
    }
    std::error_code ec;
    size_t fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    if (!ec) {
      m.setGauge("process_open_fds", "Number of open file descriptors", {},
                 static_cast<double>(fds));
    }
  });
}

}  // namespace brigade::app
