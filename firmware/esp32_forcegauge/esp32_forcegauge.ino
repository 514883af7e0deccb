// DIY handgrip dynamometer: ESP32 + load cell, speaking the Tindeq Progressor protocol.
//
// Works with isogrip, the Tindeq app and Grip Connect. This file is only the hardware
// glue: the protocol (commands, calibration, packets) is progressor_protocol.cpp, which
// is tested on a PC (tests/test_firmware.py). Build and wiring: docs/diy.md.
//
// Libraries (Arduino Library Manager / arduino-cli lib install):
//   NimBLE-Arduino (2.x), HX711 by Bogdan Necula, and for the NAU7802 option the
//   SparkFun Qwiic Scale NAU7802 Arduino Library.
//
// Threads: NimBLE calls its callbacks on its own task, while samples are read in
// loop(). Callbacks only queue what happened; loop() hands it to the protocol, so the
// protocol code runs on one task and needs no locks.

#include <Arduino.h>
#include <NimBLEDevice.h>
#include <Preferences.h>
#include <esp_sleep.h>

#include "config.h"
#include "progressor_protocol.h"

#if FORCEGAUGE_ADC_HX711
#include <HX711.h>
HX711 hx711;
#elif FORCEGAUGE_ADC_NAU7802
#include <SparkFun_Qwiic_Scale_NAU7802_Arduino_Library.h>
#include <Wire.h>
NAU7802 nau7802;
#else
#error "choose an ADC in config.h"
#endif

static const char* kServiceUuid = "7e4e1701-1ea6-40c9-9dcc-13d34ffead57";
static const char* kDataUuid = "7e4e1702-1ea6-40c9-9dcc-13d34ffead57";
static const char* kControlUuid = "7e4e1703-1ea6-40c9-9dcc-13d34ffead57";

// Events from the BLE task to loop().
struct Event {
  uint8_t kind;  // 'C' connect, 'D' disconnect, 'W' write, 'M' MTU
  uint8_t len;
  uint16_t mtu;
  uint8_t data[20];
};
static QueueHandle_t events;

static NimBLEServer* server = nullptr;
static NimBLECharacteristic* dataChar = nullptr;
static Preferences prefs;

// ---- Platform: what the protocol needs from this board ------------------------------
class Esp32Platform : public progressor::Platform {
 public:
  void notify(const uint8_t* data, size_t n) override {
    if (server != nullptr && server->getConnectedCount() > 0) {
      dataChar->setValue(data, n);
      dataChar->notify();
    }
  }
  uint32_t battery_mv() override {
    return static_cast<uint32_t>(analogReadMilliVolts(PIN_BATTERY) * BATTERY_DIVIDER_RATIO);
  }
  void save_calibration(const progressor::Calibration& c) override {
    prefs.putInt("zero", c.zero_raw);
    prefs.putFloat("scale", c.kg_per_count);
  }
  const char* firmware_version() override { return FORCEGAUGE_FIRMWARE; }
  void device_id(uint8_t out[6]) override {
    uint64_t mac = ESP.getEfuseMac();
    for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(mac >> (8 * i));
  }
  void sleep() override {
    // Deep sleep until the reset button (or a power cycle) wakes the board.
    NimBLEDevice::deinit(true);
    esp_deep_sleep_start();
  }
  void reboot() override { ESP.restart(); }
};

static Esp32Platform platform;
static progressor::Device* device = nullptr;

// ---- BLE callbacks: queue only --------------------------------------------------------
class ServerCallbacks : public NimBLEServerCallbacks {
  void onConnect(NimBLEServer* s, NimBLEConnInfo& info) override {
    // Ask for a 7.5-15 ms connection interval (units of 1.25 ms), no latency, 4 s
    // supervision timeout: a sample waits at most one interval for the radio.
    s->updateConnParams(info.getConnHandle(), 6, 12, 0, 400);
    Event e{'C', 0, 0, {}};
    xQueueSend(events, &e, 0);
  }
  void onDisconnect(NimBLEServer*, NimBLEConnInfo&, int) override {
    Event e{'D', 0, 0, {}};
    xQueueSend(events, &e, 0);
    NimBLEDevice::startAdvertising();
  }
  void onMTUChange(uint16_t mtu, NimBLEConnInfo&) override {
    Event e{'M', 0, mtu, {}};
    xQueueSend(events, &e, 0);
  }
};

class ControlCallbacks : public NimBLECharacteristicCallbacks {
  void onWrite(NimBLECharacteristic* c, NimBLEConnInfo&) override {
    NimBLEAttValue v = c->getValue();
    Event e{'W', 0, 0, {}};
    e.len = v.length() < sizeof e.data ? v.length() : sizeof e.data;
    memcpy(e.data, v.data(), e.len);
    xQueueSend(events, &e, 0);
  }
};

// ---- Load cell ---------------------------------------------------------------------------
static bool adc_begin() {
#if FORCEGAUGE_ADC_HX711
  hx711.begin(PIN_HX711_DOUT, PIN_HX711_SCK);
  return true;
#else
  Wire.begin(PIN_I2C_SDA, PIN_I2C_SCL);
  Wire.setClock(400000);
  if (!nau7802.begin()) return false;
  nau7802.setGain(NAU7802_GAIN_128);
  switch (FORCEGAUGE_RATE_HZ) {
    case 320: nau7802.setSampleRate(NAU7802_SPS_320); break;
    case 80: nau7802.setSampleRate(NAU7802_SPS_80); break;
    case 40: nau7802.setSampleRate(NAU7802_SPS_40); break;
    case 20: nau7802.setSampleRate(NAU7802_SPS_20); break;
    default: nau7802.setSampleRate(NAU7802_SPS_10); break;
  }
  nau7802.calibrateAFE();
  return true;
#endif
}

static bool adc_read(int32_t* raw) {
#if FORCEGAUGE_ADC_HX711
  if (!hx711.is_ready()) return false;
  *raw = hx711.read();
  return true;
#else
  if (!nau7802.available()) return false;
  *raw = nau7802.getReading();
  return true;
#endif
}

// ---- setup / loop -------------------------------------------------------------------------
void setup() {
  if (PIN_LED >= 0) pinMode(PIN_LED, OUTPUT);
  events = xQueueCreate(32, sizeof(Event));
  prefs.begin("forcegauge", false);
  progressor::Calibration cal;
  cal.zero_raw = prefs.getInt("zero", 0);
  cal.kg_per_count = prefs.getFloat("scale", 0.0f);
  device = new progressor::Device(&platform, cal);
  device->configure(23, FORCEGAUGE_RATE_HZ);
  device->set_reference_kg(FORCEGAUGE_REFERENCE_KG);

  uint8_t id[6];
  platform.device_id(id);
  char name[24];
#ifdef FORCEGAUGE_ID
  snprintf(name, sizeof name, "Progressor_%s", FORCEGAUGE_ID);
#else
  snprintf(name, sizeof name, "Progressor_%02X%02X", id[4], id[5]);
#endif
  NimBLEDevice::init(name);
  NimBLEDevice::setMTU(247);
  server = NimBLEDevice::createServer();
  server->setCallbacks(new ServerCallbacks());
  NimBLEService* svc = server->createService(kServiceUuid);
  dataChar = svc->createCharacteristic(kDataUuid, NIMBLE_PROPERTY::NOTIFY);
  NimBLECharacteristic* ctrl = svc->createCharacteristic(
      kControlUuid, NIMBLE_PROPERTY::WRITE | NIMBLE_PROPERTY::WRITE_NR);
  ctrl->setCallbacks(new ControlCallbacks());
  svc->start();
  NimBLEAdvertising* adv = NimBLEDevice::getAdvertising();
  adv->setName(name);
  // Like the clones: the 128-bit service UUID goes in the scan response.
  NimBLEAdvertisementData scan;
  scan.setCompleteServices(NimBLEUUID(kServiceUuid));
  adv->setScanResponseData(scan);
  adv->enableScanResponse(true);
  adv->start();

  if (!adc_begin()) {
    // No ADC answering: blink forever so the builder knows to check the wiring.
    while (true) {
      if (PIN_LED >= 0) digitalWrite(PIN_LED, !digitalRead(PIN_LED));
      delay(150);
    }
  }
}

void loop() {
  Event e;
  while (xQueueReceive(events, &e, 0) == pdTRUE) {
    switch (e.kind) {
      case 'C':
        device->on_connect();
        if (PIN_LED >= 0) digitalWrite(PIN_LED, HIGH);
        break;
      case 'D':
        device->on_disconnect();
        device->configure(23, FORCEGAUGE_RATE_HZ);
        if (PIN_LED >= 0) digitalWrite(PIN_LED, LOW);
        break;
      case 'M':
        device->configure(e.mtu, FORCEGAUGE_RATE_HZ);
        break;
      case 'W':
        device->on_write(e.data, e.len);
        break;
    }
  }
  int32_t raw;
  if (adc_read(&raw)) device->on_raw_sample(raw, micros());
  static uint32_t last_battery = 0;
  uint32_t now = micros();
  if (now - last_battery > 5u * 1000u * 1000u) {
    last_battery = now;
    device->on_battery(platform.battery_mv(), now);
  }
}
