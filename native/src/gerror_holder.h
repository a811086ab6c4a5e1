// Owns a GError filled in by a GLib or Aravis call, clears it on reuse and on destruction, and
// turns it into a message. Used on whichever thread makes the call; not shared between threads.
#pragma once

#include <glib.h>

#include <string>

namespace bottle {

struct GErrorHolder {
  GError* error = nullptr;
  GErrorHolder() = default;
  GErrorHolder(const GErrorHolder&) = delete;
  GErrorHolder& operator=(const GErrorHolder&) = delete;
  ~GErrorHolder() { g_clear_error(&error); }
  GError** out() {
    g_clear_error(&error);
    return &error;
  }
  bool failed() const { return error != nullptr; }
  std::string message() const { return error ? error->message : "no detail"; }
};

}  // namespace bottle
