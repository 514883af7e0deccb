// Progressor-compatible force gauge protocol (see progressor_protocol.h).

#include "progressor_protocol.h"

#include <math.h>
#include <string.h>

namespace progressor {

namespace {

// Until a calibration is stored, raw counts are shown scaled by this so a builder
// sees the reading move; docs/diy.md says to calibrate before any training.
constexpr float kUncalibratedKgPerCount = 1e-4f;

void put_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

void put_f32(uint8_t* p, float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);  // IEEE-754 single, as the Progressor sends it
  put_u32(p, bits);
}

float get_f32(const uint8_t* p) {
  uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                  (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

Command parse_command(const uint8_t* data, size_t n) {
  Command c;
  if (data == nullptr || n == 0) return c;
  c.opcode = data[0];
  if (n == 1) {
    c.valid = true;
    return c;
  }
  // [opcode][length][payload]: the length must match what was written.
  if (n < 2 || data[1] > sizeof c.payload || static_cast<size_t>(data[1]) + 2 != n) {
    return c;
  }
  c.length = data[1];
  memcpy(c.payload, data + 2, c.length);
  c.valid = true;
  return c;
}

bool Calibration::valid() const {
  return kg_per_count != 0.0f && isfinite(kg_per_count);
}

float Calibration::to_kg(float raw) const {
  float scale = valid() ? kg_per_count : kUncalibratedKgPerCount;
  return (raw - static_cast<float>(zero_raw)) * scale;
}

void Calibrator::add_point(float known_kg, float mean_raw) {
  if (!isfinite(known_kg) || !isfinite(mean_raw)) return;
  // A repeated weight replaces its point (the user redoes a step).
  for (size_t i = 0; i < count_; ++i) {
    if (kg_[i] == known_kg) {
      raw_[i] = mean_raw;
      return;
    }
  }
  if (count_ == 2) {  // keep the newest two
    kg_[0] = kg_[1];
    raw_[0] = raw_[1];
    count_ = 1;
  }
  kg_[count_] = known_kg;
  raw_[count_] = mean_raw;
  ++count_;
}

bool Calibrator::solve(Calibration* out) const {
  if (count_ < 2 || out == nullptr) return false;
  float dkg = kg_[1] - kg_[0];
  float draw = raw_[1] - raw_[0];
  if (dkg == 0.0f || draw == 0.0f) return false;
  float scale = dkg / draw;
  // zero_raw is where the line crosses 0 kg.
  double zero = static_cast<double>(raw_[0]) - static_cast<double>(kg_[0]) / scale;
  if (!isfinite(scale) || !isfinite(zero) || fabs(zero) > 2147483647.0) return false;
  out->kg_per_count = scale;
  out->zero_raw = static_cast<int32_t>(lround(zero));
  return true;
}

void SampleBatcher::configure(size_t mtu, size_t per_packet) {
  // ATT notification payload = MTU - 3; our record header takes 2 more bytes.
  size_t payload = mtu > 3 ? mtu - 3 : 20;
  if (payload > kMaxNotification) payload = kMaxNotification;
  size_t fit = payload > 2 ? (payload - 2) / kSampleBytes : 1;
  if (fit == 0) fit = 1;
  if (per_packet == 0) per_packet = 1;
  capacity_ = per_packet < fit ? per_packet : fit;
  count_ = 0;
}

bool SampleBatcher::add(float kg, uint32_t t_us) {
  uint8_t* p = buf_ + 2 + count_ * kSampleBytes;
  put_f32(p, kg);
  put_u32(p + 4, t_us);
  ++count_;
  return count_ >= capacity_;
}

size_t SampleBatcher::take(uint8_t* out) {
  if (count_ == 0) return 0;
  size_t len = count_ * kSampleBytes;
  buf_[0] = kTypeWeight;
  buf_[1] = static_cast<uint8_t>(len);
  memcpy(out, buf_, len + 2);
  count_ = 0;
  return len + 2;
}

size_t encode_response(const uint8_t* value, size_t n, uint8_t* out) {
  if (n > kMaxNotification - 2) n = kMaxNotification - 2;
  out[0] = kTypeResponse;
  out[1] = static_cast<uint8_t>(n);
  if (n) memcpy(out + 2, value, n);
  return n + 2;
}

size_t encode_u32_response(uint32_t v, uint8_t* out) {
  uint8_t value[4];
  put_u32(value, v);
  return encode_response(value, sizeof value, out);
}

size_t encode_low_battery(uint8_t* out) {
  out[0] = kTypeLowBattery;
  out[1] = 0;
  return 2;
}

Device::Device(Platform* platform, const Calibration& stored)
    : platform_(platform), cal_(stored) {
  batcher_.configure(23, 1);
}

void Device::configure(size_t mtu, float rate_hz) {
  // One notification per 12.5 ms (80 per second) however fast the ADC runs, so a
  // phone or a PC is never flooded and latency stays below one 80 Hz frame.
  size_t per = rate_hz > 80.0f ? static_cast<size_t>(lroundf(rate_hz / 80.0f)) : 1;
  per_packet_ = per;
  batcher_.configure(mtu, per);
  // A calibration point averages up to 32 readings but never more than one second's
  // worth: Grip Connect reads the calibration back 1.5 s after capturing a point, and
  // at 10 SPS 32 readings would take 3.2 s.
  size_t per_second = rate_hz > 0.0f ? static_cast<size_t>(lroundf(rate_hz)) : kCalibrationSamples;
  cal_samples_ = per_second < kCalibrationSamples ? per_second : kCalibrationSamples;
  if (cal_samples_ < kMinCalibrationSamples) cal_samples_ = kMinCalibrationSamples;
}

void Device::set_reference_kg(float kg) {
  if (isfinite(kg) && kg > 0.0f && kg <= 1000.0f) reference_kg_ = kg;
}

void Device::on_connect() {
  streaming_ = false;
  batcher_.clear();
  tare_left_ = kTareSamples;  // tare on connect (handle at rest)
  tare_sum_ = 0.0;
  // A calibration is the work of one connection: points from an earlier one (perhaps
  // with another weight on the handle) must not pair with this one's.
  calibrator_.clear();
  zero_captured_ = false;
  save_pending_ = false;
}

void Device::on_disconnect() {
  streaming_ = false;
  batcher_.clear();
  cal_left_ = 0;
  save_pending_ = false;
}

void Device::reply(const uint8_t* value, size_t n) {
  uint8_t out[kMaxNotification];
  size_t len = encode_response(value, n, out);
  platform_->notify(out, len);
}

void Device::flush() {
  uint8_t out[kMaxNotification];
  size_t len = batcher_.take(out);
  if (len) platform_->notify(out, len);
}

// 0x69, in every shape a client sends it:
//   [69]            Grip Connect (>= 0.10.4): capture at the current load, no weight sent.
//                   The first bare capture since connect (or the last save) is the zero
//                   point, later ones the reference weight (set_reference_kg).
//   [69][f32 kg]    the hangman calibration guide (6900000000, 690000f042), crimpdeq,
//                   Grip Connect <= 0.10.3.
//   [69][04][f32]   the Progressor [opcode][length][payload] form.
bool Device::add_calibration_point(const uint8_t* data, size_t n) {
  float kg;
  if (n == 1) {
    kg = zero_captured_ ? reference_kg_ : 0.0f;
  } else if (n == 5) {
    kg = get_f32(data + 1);
  } else if (n == 6 && data[1] == 4) {
    kg = get_f32(data + 2);
  } else {
    return false;
  }
  if (!isfinite(kg) || kg < 0.0f || kg > 1000.0f) return false;
  if (kg == 0.0f) zero_captured_ = true;
  cal_known_kg_ = kg;
  cal_left_ = cal_samples_;
  cal_taken_ = cal_samples_;
  cal_sum_ = 0.0;
  return true;
}

// 0x71 (Grip Connect's setCalibration): [71][reserved 00, or the length 0C][f32 slope]
// [f32 intercept][f32 trim], kg = raw * slope + intercept + trim. Restores a block read
// with 0x72 from this firmware; no reply (the protocol has none, Grip Connect waits for
// none): read it back with 0x72.
bool Device::set_calibration_block(const uint8_t* data, size_t n) {
  if (n != 2 + kCalibrationBlockBytes || (data[1] != 0 && data[1] != kCalibrationBlockBytes)) {
    return false;
  }
  float slope = get_f32(data + 2);
  double offset = static_cast<double>(get_f32(data + 6)) + get_f32(data + 10);
  if (!isfinite(slope) || slope == 0.0f || !isfinite(offset)) return false;
  double zero = -offset / slope;
  if (!isfinite(zero) || fabs(zero) > 2147483647.0) return false;
  cal_.kg_per_count = slope;
  cal_.zero_raw = static_cast<int32_t>(lround(zero));
  platform_->save_calibration(cal_);
  tare_kg_ = 0.0f;  // a tare in the old scale means nothing in the new one
  calibrator_.clear();
  return true;
}

// 0x72: the stored line as Grip Connect reads it (slope, intercept, trim; f32 LE).
// Trim is always 0 here: the tare is per connection and never stored.
void Device::reply_calibration_block() {
  uint8_t block[kCalibrationBlockBytes];
  double intercept = -static_cast<double>(cal_.zero_raw) * cal_.kg_per_count;
  put_f32(block, cal_.kg_per_count);
  put_f32(block + 4, static_cast<float>(intercept));
  put_f32(block + 8, 0.0f);
  reply(block, sizeof block);
}

void Device::save_calibration() {
  save_pending_ = false;
  Calibration next;
  uint8_t ok = calibrator_.solve(&next) ? 1 : 0;
  if (ok) {
    cal_ = next;
    platform_->save_calibration(cal_);
    tare_kg_ = 0.0f;  // the new zero replaces any tare
    calibrator_.clear();
    zero_captured_ = false;
  }
  reply(&ok, 1);
}

// 0x75 reboots only with its confirmation byte: [75][00][01] (Grip Connect) or the
// [opcode][length][payload] form [75][01][01]. A bare 0x75 is refused: a stray byte must
// not drop a training session.
bool Device::reboot(const uint8_t* data, size_t n) {
  if (n != 3 || data[2] != 1 || (data[1] != 0 && data[1] != 1)) return false;
  flush();
  streaming_ = false;
  platform_->reboot();
  return true;
}

void Device::on_write(const uint8_t* data, size_t n) {
  if (data == nullptr || n == 0) {
    ++unknown_;
    return;
  }
  bool ok = true;
  switch (data[0]) {
    case kAddCalibrationPoint: ok = add_calibration_point(data, n); break;
    case kSetCalibration: ok = set_calibration_block(data, n); break;
    case kReboot: ok = reboot(data, n); break;
    default: {
      Command c = parse_command(data, n);
      if (c.valid) {
        simple_command(c);
      } else {
        ok = false;
      }
    }
  }
  if (!ok) ++unknown_;  // refused writes are ignored: never guess what a client meant
}

void Device::simple_command(const Command& c) {
  uint8_t out[kMaxNotification];
  switch (c.opcode) {
    case kTare:
      tare_left_ = kTareSamples;
      tare_sum_ = 0.0;
      break;
    case kStartWeight:
    case kStartPeakRfd:
      streaming_ = true;
      break;
    case kStop:
      flush();  // the samples already taken still go out
      streaming_ = false;
      break;
    case kSaveCalibration:
      // A point still being averaged belongs to this save: answer when it is in.
      if (cal_left_) {
        save_pending_ = true;
      } else {
        save_calibration();
      }
      break;
    case kFirmwareVersion: {
      const char* v = platform_->firmware_version();
      reply(reinterpret_cast<const uint8_t*>(v), strlen(v));
      break;
    }
    case kGetErrorInfo:
      reply(nullptr, 0);  // no crash log is kept: an empty one, so nobody waits
      break;
    case kClearErrorInfo:
      break;  // nothing to clear; the protocol defines no reply
    case kGetCalibration:
      reply_calibration_block();
      break;
    case kBattery:
      platform_->notify(out, encode_u32_response(platform_->battery_mv(), out));
      break;
    case kDeviceId: {
      uint8_t id[6];
      platform_->device_id(id);
      reply(id, sizeof id);
      break;
    }
    case kSleep:
      streaming_ = false;
      platform_->sleep();
      break;
    default:
      ++unknown_;  // 0x68, 0x73, 0x74, 0x76...: meanings differ between firmwares
      break;
  }
}

void Device::on_raw_sample(int32_t raw, uint32_t t_us) {
  if (tare_left_) {
    tare_sum_ += cal_.to_kg(static_cast<float>(raw));
    if (--tare_left_ == 0) tare_kg_ = static_cast<float>(tare_sum_ / kTareSamples);
  }
  if (cal_left_) {
    cal_sum_ += raw;
    if (--cal_left_ == 0) {
      calibrator_.add_point(cal_known_kg_, static_cast<float>(cal_sum_ / cal_taken_));
      if (save_pending_) save_calibration();
    }
  }
  if (!streaming_) return;
  float kg = cal_.to_kg(static_cast<float>(raw)) - tare_kg_;
  if (batcher_.add(kg, t_us)) flush();
}

void Device::on_battery(uint32_t mv, uint32_t t_us) {
  if (mv >= kLowBatteryMv || mv == 0) {
    low_sent_ = false;
    return;
  }
  if (low_sent_ && t_us - low_sent_at_ < kLowBatteryRepeatUs) return;  // wrap-safe
  uint8_t out[2];
  platform_->notify(out, encode_low_battery(out));
  low_sent_ = true;
  low_sent_at_ = t_us;
}

}  // namespace progressor
