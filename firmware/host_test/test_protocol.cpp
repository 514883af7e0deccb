// Unit tests of the firmware protocol, built and run on the host (make test runs them
// through tests/test_firmware.py). Exit status 0 = all passed.

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fake_platform.h"
#include "progressor_protocol.h"

using namespace progressor;

static int failures = 0;
#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      ++failures;                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                  \
  } while (0)

static float f32_at(const std::vector<uint8_t>& v, size_t off) {
  uint32_t b = v[off] | (v[off + 1] << 8) | (v[off + 2] << 16) | ((uint32_t)v[off + 3] << 24);
  float f;
  memcpy(&f, &b, 4);
  return f;
}

static uint32_t u32_at(const std::vector<uint8_t>& v, size_t off) {
  return v[off] | (v[off + 1] << 8) | (v[off + 2] << 16) | ((uint32_t)v[off + 3] << 24);
}

static void test_parse_command() {
  const uint8_t one[] = {0x65};
  Command c = parse_command(one, 1);
  CHECK(c.valid && c.opcode == 0x65 && c.length == 0);
  const uint8_t tlv[] = {0x69, 4, 0x00, 0x00, 0x20, 0x41};
  c = parse_command(tlv, sizeof tlv);
  CHECK(c.valid && c.opcode == 0x69 && c.length == 4 && c.payload[3] == 0x41);
  const uint8_t bad_len[] = {0x69, 5, 0, 0};
  CHECK(!parse_command(bad_len, sizeof bad_len).valid);
  CHECK(!parse_command(nullptr, 0).valid);
  uint8_t too_long[20] = {0x69, 18};
  CHECK(!parse_command(too_long, sizeof too_long).valid);
}

static void test_calibration_maths() {
  Calibrator cal;
  Calibration out;
  CHECK(!cal.solve(&out));
  cal.add_point(0.0f, 1000.0f);
  CHECK(!cal.solve(&out));
  cal.add_point(10.0f, 21000.0f);
  CHECK(cal.solve(&out));
  CHECK(out.zero_raw == 1000);
  CHECK(fabsf(out.kg_per_count - 10.0f / 20000.0f) < 1e-9f);
  CHECK(fabsf(out.to_kg(11000.0f) - 5.0f) < 1e-5f);
  // Same raw twice: no scale.
  Calibrator flat;
  flat.add_point(0.0f, 5.0f);
  flat.add_point(10.0f, 5.0f);
  Calibration untouched;
  CHECK(!flat.solve(&untouched) && !untouched.valid());
  // A repeated weight replaces its point.
  cal.add_point(10.0f, 41000.0f);
  CHECK(cal.points() == 2 && cal.solve(&out) && out.zero_raw == 1000);
  CHECK(fabsf(out.kg_per_count - 10.0f / 40000.0f) < 1e-9f);
}

static void test_batcher_respects_mtu() {
  SampleBatcher b;
  b.configure(23, 4);  // 20-byte payload: only 2 samples fit
  CHECK(b.capacity() == 2);
  b.configure(247, 4);
  CHECK(b.capacity() == 4);
  b.configure(247, 100);
  CHECK(b.capacity() == 30);  // (244 - 2) / 8
  b.configure(23, 1);
  uint8_t out[kMaxNotification];
  CHECK(b.add(12.5f, 13500));
  size_t n = b.take(out);
  std::vector<uint8_t> v(out, out + n);
  CHECK(n == 10 && v[0] == 1 && v[1] == 8);
  CHECK(f32_at(v, 2) == 12.5f && u32_at(v, 6) == 13500);
  CHECK(b.take(out) == 0);
}

static void test_device_commands_and_stream() {
  FakePlatform p;
  Calibration c;
  c.zero_raw = 1000;
  c.kg_per_count = 0.001f;
  Device d(&p, c);
  d.configure(247, 320.0f);  // 4 samples per notification
  d.on_connect();
  for (int i = 0; i < 16; ++i) d.on_raw_sample(1100, i * 3125u);  // tare at 0.1 kg
  CHECK(fabsf(d.tare_offset_kg() - 0.1f) < 1e-6f);
  const uint8_t start[] = {kStartWeight};
  d.on_write(start, 1);
  CHECK(d.streaming());
  for (int i = 0; i < 8; ++i) d.on_raw_sample(1100 + 1000 * i, 100000u + i * 3125u);
  CHECK(p.sent.size() == 2);
  CHECK(p.sent[0].size() == 2 + 4 * 8 && p.sent[0][1] == 32);
  CHECK(fabsf(f32_at(p.sent[1], 2 + 3 * 8) - 7.0f) < 1e-5f);
  const uint8_t stop[] = {kStop};
  d.on_raw_sample(5000, 200000u);  // one pending sample is flushed by stop
  d.on_write(stop, 1);
  CHECK(!d.streaming() && p.sent.size() == 3 && p.sent[2][1] == 8);
  const uint8_t battery[] = {kBattery};
  d.on_write(battery, 1);
  CHECK(p.sent.back() == std::vector<uint8_t>({0, 4, 0xAC, 0x0F, 0, 0}));  // 4012 mV
  const uint8_t fw[] = {kFirmwareVersion};
  d.on_write(fw, 1);
  CHECK(std::string(p.sent.back().begin() + 2, p.sent.back().end()) == "isogrip-fw 1.0.0");
  const uint8_t id[] = {kDeviceId};
  d.on_write(id, 1);
  CHECK(p.sent.back().size() == 8 && p.sent.back()[2] == 0x24);
  size_t before = p.sent.size();
  const uint8_t unknown[] = {0x74};
  d.on_write(unknown, 1);
  CHECK(p.sent.size() == before && d.unknown_commands() == 1);
}

static void test_low_battery_rate_limited() {
  FakePlatform p;
  Device d(&p, Calibration());
  d.on_battery(3300, 1000);
  d.on_battery(3300, 2000000);
  CHECK(p.sent.size() == 1 && p.sent[0] == std::vector<uint8_t>({4, 0}));
  d.on_battery(3300, 1000 + kLowBatteryRepeatUs);
  CHECK(p.sent.size() == 2);
  d.on_battery(3900, 1000 + 2 * kLowBatteryRepeatUs);
  d.on_battery(3300, 1100 + 2 * kLowBatteryRepeatUs);  // recovered, then low again
  CHECK(p.sent.size() == 3);
}

static void test_calibration_through_commands() {
  FakePlatform p;
  Device d(&p, Calibration());
  const uint8_t zero[] = {kAddCalibrationPoint, 4, 0, 0, 0, 0};
  d.on_write(zero, sizeof zero);
  for (size_t i = 0; i < kCalibrationSamples; ++i) d.on_raw_sample(500, i);
  const uint8_t ten[] = {kAddCalibrationPoint, 4, 0x00, 0x00, 0x20, 0x41};  // 10.0f
  d.on_write(ten, sizeof ten);
  for (size_t i = 0; i < kCalibrationSamples; ++i) d.on_raw_sample(20500, i);
  const uint8_t save[] = {kSaveCalibration};
  d.on_write(save, 1);
  CHECK(p.saves == 1 && p.saved.zero_raw == 500);
  CHECK(fabsf(p.saved.kg_per_count - 0.0005f) < 1e-9f);
  CHECK(p.sent.back() == std::vector<uint8_t>({0, 1, 1}));
  const uint8_t nan_kg[] = {kAddCalibrationPoint, 4, 0x00, 0x00, 0xC0, 0x7F};
  d.on_write(nan_kg, sizeof nan_kg);
  CHECK(d.unknown_commands() == 1);
  d.on_write(save, 1);  // no new points: refused, the stored calibration stays
  CHECK(p.saves == 1 && p.sent.back() == std::vector<uint8_t>({0, 1, 0}));
}

static void test_calibration_capture_lasts_at_most_a_second() {
  // At 10 SPS a point averages 10 readings (1 s), not 32 (3.2 s): Grip Connect reads
  // the calibration back 1.5 s after a capture. A save sent meanwhile waits for it.
  FakePlatform p;
  Device d(&p, Calibration());
  d.configure(23, 10.0f);
  d.on_connect();
  const uint8_t bare[] = {kAddCalibrationPoint};
  d.on_write(bare, 1);
  for (int i = 0; i < 10; ++i) d.on_raw_sample(2000, i * 100000u);
  CHECK(!d.calibration_capturing());
  d.set_reference_kg(5.0f);
  d.on_write(bare, 1);
  const uint8_t save[] = {kSaveCalibration};
  d.on_write(save, 1);
  CHECK(p.saves == 0 && p.sent.empty());
  for (int i = 0; i < 10; ++i) d.on_raw_sample(12000, i * 100000u);
  CHECK(p.saves == 1 && p.saved.zero_raw == 2000);
  CHECK(fabsf(p.saved.kg_per_count - 5.0f / 10000.0f) < 1e-9f);
  CHECK(p.sent.size() == 1 && p.sent[0] == std::vector<uint8_t>({0, 1, 1}));
  // After a save the next bare capture is a zero point again.
  d.on_write(bare, 1);
  for (int i = 0; i < 10; ++i) d.on_raw_sample(2100, i);
  d.on_write(bare, 1);
  for (int i = 0; i < 10; ++i) d.on_raw_sample(22100, i);
  d.on_write(save, 1);
  CHECK(p.saves == 2 && p.saved.zero_raw == 2100);
  // Out-of-range reference weights are ignored (the last good one stays).
  d.set_reference_kg(-1.0f);
  d.set_reference_kg(NAN);
  d.on_write(bare, 1);
  for (int i = 0; i < 10; ++i) d.on_raw_sample(2100, i);
  d.on_write(bare, 1);
  for (int i = 0; i < 10; ++i) d.on_raw_sample(12100, i);
  d.on_write(save, 1);
  CHECK(p.saves == 3 && fabsf(p.saved.kg_per_count - 5.0f / 10000.0f) < 1e-9f);
}

int main() {
  test_parse_command();
  test_calibration_maths();
  test_batcher_respects_mtu();
  test_device_commands_and_stream();
  test_low_battery_rate_limited();
  test_calibration_through_commands();
  test_calibration_capture_lasts_at_most_a_second();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all firmware protocol tests passed\n");
  return 0;
}
