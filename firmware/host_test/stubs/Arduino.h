// Host stand-ins for the Arduino-ESP32 APIs the sketch uses: just enough declarations
// to type-check esp32_forcegauge.ino on a PC (tests/test_firmware.py). Not a port.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#define HIGH 1
#define LOW 0
#define OUTPUT 1
typedef void* QueueHandle_t;
typedef int BaseType_t;
#define pdTRUE 1
inline QueueHandle_t xQueueCreate(int, size_t) { return nullptr; }
inline BaseType_t xQueueSend(QueueHandle_t, const void*, int) { return pdTRUE; }
inline BaseType_t xQueueReceive(QueueHandle_t, void*, int) { return 0; }
inline void pinMode(int, int) {}
inline void digitalWrite(int, int) {}
inline int digitalRead(int) { return 0; }
inline void delay(unsigned long) {}
inline uint32_t micros() { return 0; }
inline uint32_t analogReadMilliVolts(int) { return 0; }
struct EspClass {
  uint64_t getEfuseMac() { return 0; }
  void restart() {}
};
extern EspClass ESP;
