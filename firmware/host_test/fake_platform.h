// A Platform for host builds: records notifications, fixed battery and id.

#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "progressor_protocol.h"

struct FakePlatform : progressor::Platform {
  std::vector<std::vector<uint8_t>> sent;
  uint32_t mv = 4012;
  progressor::Calibration saved;
  int saves = 0;
  int sleeps = 0;
  int reboots = 0;

  void notify(const uint8_t* data, size_t n) override { sent.emplace_back(data, data + n); }
  uint32_t battery_mv() override { return mv; }
  void save_calibration(const progressor::Calibration& c) override {
    saved = c;
    ++saves;
  }
  const char* firmware_version() override { return "isogrip-fw 1.0.0"; }
  void device_id(uint8_t out[6]) override {
    const uint8_t id[6] = {0x24, 0x6F, 0x28, 0x0A, 0x1B, 0x2C};
    for (int i = 0; i < 6; ++i) out[i] = id[i];
  }
  void sleep() override { ++sleeps; }
  void reboot() override { ++reboots; }
};
