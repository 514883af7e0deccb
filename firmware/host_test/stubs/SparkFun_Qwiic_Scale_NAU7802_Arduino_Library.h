#pragma once
#include <stdint.h>
enum { NAU7802_GAIN_128 = 7 };
enum { NAU7802_SPS_10 = 0, NAU7802_SPS_20 = 1, NAU7802_SPS_40 = 2, NAU7802_SPS_80 = 3,
       NAU7802_SPS_320 = 7 };
class NAU7802 {
 public:
  bool begin() { return true; }
  bool setGain(uint8_t) { return true; }
  bool setSampleRate(uint8_t) { return true; }
  bool calibrateAFE() { return true; }
  bool available() { return false; }
  int32_t getReading() { return 0; }
};
