// Progressor-compatible force gauge: the protocol, with no Arduino or BLE dependency.
//
// Everything a Tindeq Progressor client sees is decided here: how commands written to
// the control point are parsed and answered, how samples are calibrated, tared and
// packed into type-1 weight notifications, and when the low-battery warning is sent.
// The sketch (esp32_forcegauge.ino) only moves bytes between this code, the load-cell
// ADC, the BLE stack and flash. The same source is compiled on the host by the tests,
// which check byte for byte that isogrip decodes what this code encodes.
//
// Wire format (docs/diy.md, ../../../shared facts in docs/devices.md):
//   notification = [type u8][length u8][value...], little-endian
//   type 0: reply to the last command; type 1: weight, length/8 samples of
//   (f32 kg, u32 microseconds since start); type 4: low battery.
//   Commands: one opcode byte, or [opcode][length][payload]; 0x69, 0x71 and 0x75 also
//   take the shapes other clients write (Device::on_write, docs/diy.md).

#pragma once

#include <stddef.h>
#include <stdint.h>

namespace progressor {

// Opcodes (the Tindeq Progressor API, plus what Grip Connect and the clone firmwares
// send; docs/diy.md lists each with its source and what this firmware does with it).
constexpr uint8_t kTare = 0x64;
constexpr uint8_t kStartWeight = 0x65;
constexpr uint8_t kStop = 0x66;
constexpr uint8_t kStartPeakRfd = 0x67;      // accepted, streams weight like 0x65
constexpr uint8_t kAddCalibrationPoint = 0x69;  // bare, [f32 kg], or [4][f32 kg]
constexpr uint8_t kSaveCalibration = 0x6A;
constexpr uint8_t kFirmwareVersion = 0x6B;
constexpr uint8_t kGetErrorInfo = 0x6C;      // reply: the crash log as text (ours: empty)
constexpr uint8_t kClearErrorInfo = 0x6D;    // no reply in the protocol
constexpr uint8_t kSleep = 0x6E;
constexpr uint8_t kBattery = 0x6F;
constexpr uint8_t kDeviceId = 0x70;
constexpr uint8_t kSetCalibration = 0x71;    // [reserved][f32 slope][f32 intercept][f32 trim]
constexpr uint8_t kGetCalibration = 0x72;    // reply: the same 12-byte block
constexpr uint8_t kReboot = 0x75;            // [0x00][0x01]: 0x01 confirms

constexpr uint8_t kTypeResponse = 0;
constexpr uint8_t kTypeWeight = 1;
constexpr uint8_t kTypeLowBattery = 4;

constexpr size_t kSampleBytes = 8;
constexpr size_t kMaxNotification = 244;  // largest ATT payload we ever build
constexpr size_t kCalibrationSamples = 32;  // raw readings averaged per calibration point
constexpr size_t kMinCalibrationSamples = 8;  // floor below 8 SPS (see Device::configure)
// The weight a bare 0x69 (Grip Connect's form, which sends no weight) stands for when it
// is not the zero point; the sketch sets FORCEGAUGE_REFERENCE_KG from config.h.
constexpr float kDefaultReferenceKg = 20.0f;
constexpr size_t kCalibrationBlockBytes = 12;  // 0x71 / 0x72: slope, intercept, trim
constexpr size_t kTareSamples = 16;         // raw readings averaged for a tare
constexpr uint32_t kLowBatteryMv = 3400;
constexpr uint32_t kLowBatteryRepeatUs = 60u * 1000u * 1000u;

// A parsed control-point write.
struct Command {
  uint8_t opcode = 0;
  uint8_t length = 0;
  uint8_t payload[16] = {};
  bool valid = false;
};

// Single opcode byte, or [opcode][length][payload] with length <= 16 and matching the
// write's size. Anything else is invalid (and ignored by Device).
Command parse_command(const uint8_t* data, size_t n);

// Two-point calibration: kg = (raw - zero_raw) * kg_per_count.
struct Calibration {
  int32_t zero_raw = 0;
  float kg_per_count = 0.0f;  // 0 = not calibrated
  bool valid() const;
  float to_kg(float raw) const;
};

// Collects calibration points (known kg, mean raw) and solves the line through the
// first two distinct ones (or through zero and one point when only one is given with
// the zero weight implied by zero_raw).
class Calibrator {
 public:
  void add_point(float known_kg, float mean_raw);
  // Returns false (and leaves `out` alone) when the points cannot define a scale:
  // fewer than two, equal weights, equal raw readings, or a non-finite result.
  bool solve(Calibration* out) const;
  size_t points() const { return count_; }
  void clear() { count_ = 0; }

 private:
  float kg_[2] = {0, 0};
  float raw_[2] = {0, 0};
  size_t count_ = 0;
};

// Packs samples into type-1 notifications of `per_packet` samples (fewer when the
// connection's MTU is small).
class SampleBatcher {
 public:
  // mtu: the negotiated ATT MTU (23 by default); per_packet: samples wanted per
  // notification (1 at 80 SPS, 4 at 320 SPS: one notification every 12.5 ms).
  void configure(size_t mtu, size_t per_packet);
  size_t capacity() const { return capacity_; }
  // Adds a sample; returns true when a notification is complete (take it).
  bool add(float kg, uint32_t t_us);
  // Writes the pending samples as one notification; returns its length (0 if none).
  size_t take(uint8_t* out);
  size_t pending() const { return count_; }
  void clear() { count_ = 0; }

 private:
  uint8_t buf_[kMaxNotification] = {};
  size_t count_ = 0;
  size_t capacity_ = 1;
};

size_t encode_response(const uint8_t* value, size_t n, uint8_t* out);
size_t encode_u32_response(uint32_t v, uint8_t* out);
size_t encode_low_battery(uint8_t* out);

// What the device needs from the outside world (implemented by the sketch, and by a
// fake on the host).
class Platform {
 public:
  virtual ~Platform() = default;
  virtual void notify(const uint8_t* data, size_t n) = 0;  // on the data characteristic
  virtual uint32_t battery_mv() = 0;
  virtual void save_calibration(const Calibration& c) = 0;  // to NVS
  virtual const char* firmware_version() = 0;
  virtual void device_id(uint8_t out[6]) = 0;  // e.g. the BLE MAC
  virtual void sleep() = 0;
  virtual void reboot() = 0;  // restart the board (0x75 with its confirmation byte)
};

// The whole device behaviour.
class Device {
 public:
  Device(Platform* platform, const Calibration& stored);
  void configure(size_t mtu, float rate_hz);
  void on_connect();     // tares (once enough samples arrived) and stops any stream
  void on_disconnect();  // stops the stream
  void on_write(const uint8_t* data, size_t n);
  // The known weight a bare 0x69 reference capture stands for, kg (> 0).
  void set_reference_kg(float kg);
  // A raw ADC reading taken at t_us (the device's microsecond clock, wraps at 2^32).
  void on_raw_sample(int32_t raw, uint32_t t_us);
  // Call every few seconds with a fresh reading; sends type 4 when the cell is low.
  void on_battery(uint32_t mv, uint32_t t_us);

  bool streaming() const { return streaming_; }
  const Calibration& calibration() const { return cal_; }
  float tare_offset_kg() const { return tare_kg_; }
  uint32_t unknown_commands() const { return unknown_; }
  bool calibration_capturing() const { return cal_left_ != 0; }

 private:
  void reply(const uint8_t* value, size_t n);
  void flush();
  // The calibration commands, whose accepted forms differ from the generic
  // [opcode][length][payload] rule; each returns false for a write it refuses.
  bool add_calibration_point(const uint8_t* data, size_t n);
  bool set_calibration_block(const uint8_t* data, size_t n);
  void reply_calibration_block();
  void save_calibration();
  bool reboot(const uint8_t* data, size_t n);
  void simple_command(const Command& c);

  Platform* platform_;
  Calibration cal_;
  Calibrator calibrator_;
  SampleBatcher batcher_;
  size_t per_packet_ = 1;
  bool streaming_ = false;
  float tare_kg_ = 0.0f;
  // Running means for tare and calibration (each needs a quiet, loaded or unloaded,
  // handle for a moment).
  size_t tare_left_ = 0;
  double tare_sum_ = 0.0;
  size_t cal_left_ = 0;
  double cal_sum_ = 0.0;
  float cal_known_kg_ = 0.0f;
  size_t cal_samples_ = kCalibrationSamples;  // per point, from the ADC rate
  size_t cal_taken_ = kCalibrationSamples;    // what the point being averaged needs
  float reference_kg_ = kDefaultReferenceKg;
  bool zero_captured_ = false;  // a 0 kg point was started since connect or the last save
  bool save_pending_ = false;   // 0x6A arrived while a point was still being averaged
  bool low_sent_ = false;
  uint32_t low_sent_at_ = 0;
  uint32_t unknown_ = 0;
};

}  // namespace progressor
