#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace brigade::server {

// One Brigade per data folder and per port. Every event loop binds its port with
// SO_REUSEPORT, so without these checks a second process started on the same port
// (and data folder) would start silently and take part of the traffic.

// The data folder's lock (DATA/brigade.lock, flock): held until the process exits
// or the object is destroyed. The file keeps the holder's pid, for the message.
class InstanceLock {
 public:
  static Result<InstanceLock> acquire(const std::string& dataDir);
  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&&) = delete;
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Whether host:port is free for us: a socket without SO_REUSEPORT cannot bind a port
// that another process listens on, with or without SO_REUSEPORT. Port 0 is always free.
Result<void> checkPortFree(const std::string& host, uint16_t port);

}  // namespace brigade::server
