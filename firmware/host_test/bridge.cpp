// A host program around the firmware protocol, for tests/test_firmware.py.
//
// Reads one event per line on stdin and prints every notification the device sends as
// "N <hex>" on stdout:
//   M <mtu> <rate_hz>   configure        K   connect       D   disconnect
//   C <hex>             a control write  S <raw> <t_us>  a raw ADC sample
//   B <mv> <t_us>       a battery reading      R <kg>  the bare-0x69 reference weight
// and "SAVE <zero_raw> <kg_per_count>" when a calibration is saved, "SLEEP", "REBOOT".

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "progressor_protocol.h"

struct PrintPlatform : progressor::Platform {
  void notify(const uint8_t* data, size_t n) override {
    printf("N ");
    for (size_t i = 0; i < n; ++i) printf("%02x", data[i]);
    printf("\n");
  }
  uint32_t battery_mv() override { return 3987; }
  void save_calibration(const progressor::Calibration& c) override {
    printf("SAVE %d %.9g\n", static_cast<int>(c.zero_raw), static_cast<double>(c.kg_per_count));
  }
  const char* firmware_version() override { return "isogrip-fw 1.0.0"; }
  void device_id(uint8_t out[6]) override {
    const uint8_t id[6] = {0x24, 0x6F, 0x28, 0x0A, 0x1B, 0x2C};
    memcpy(out, id, 6);
  }
  void sleep() override { printf("SLEEP\n"); }
  void reboot() override { printf("REBOOT\n"); }
};

int main() {
  PrintPlatform platform;
  progressor::Device device(&platform, progressor::Calibration());
  char line[1024];
  while (fgets(line, sizeof line, stdin)) {
    char kind = line[0];
    const char* rest = line + 1;
    if (kind == 'M') {
      unsigned mtu = 23;
      double rate = 80;
      sscanf(rest, "%u %lf", &mtu, &rate);
      device.configure(mtu, static_cast<float>(rate));
    } else if (kind == 'K') {
      device.on_connect();
    } else if (kind == 'D') {
      device.on_disconnect();
    } else if (kind == 'C') {
      std::vector<uint8_t> bytes;
      for (const char* p = rest; *p;) {
        while (*p == ' ') ++p;
        if (!p[0] || !p[1] || p[0] == '\n') break;
        char hex[3] = {p[0], p[1], 0};
        bytes.push_back(static_cast<uint8_t>(strtoul(hex, nullptr, 16)));
        p += 2;
      }
      device.on_write(bytes.data(), bytes.size());
    } else if (kind == 'S') {
      long raw = 0;
      unsigned long t = 0;
      sscanf(rest, "%ld %lu", &raw, &t);
      device.on_raw_sample(static_cast<int32_t>(raw), static_cast<uint32_t>(t));
    } else if (kind == 'R') {
      double kg = 0;
      sscanf(rest, "%lf", &kg);
      device.set_reference_kg(static_cast<float>(kg));
    } else if (kind == 'B') {
      unsigned long mv = 0, t = 0;
      sscanf(rest, "%lu %lu", &mv, &t);
      device.on_battery(static_cast<uint32_t>(mv), static_cast<uint32_t>(t));
    }
    fflush(stdout);
  }
  return 0;
}
