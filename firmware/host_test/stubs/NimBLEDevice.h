#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>
class NimBLEUUID { public: explicit NimBLEUUID(const char*) {} };
class NimBLEConnInfo { public: uint16_t getConnHandle() const { return 0; } };
class NimBLEAttValue {
 public:
  const uint8_t* data() const { return nullptr; }
  size_t length() const { return 0; }
};
class NimBLECharacteristic;
class NimBLECharacteristicCallbacks {
 public:
  virtual ~NimBLECharacteristicCallbacks() = default;
  virtual void onWrite(NimBLECharacteristic*, NimBLEConnInfo&) {}
};
namespace NIMBLE_PROPERTY { enum : uint16_t { READ = 2, WRITE_NR = 4, WRITE = 8, NOTIFY = 16 }; }
class NimBLECharacteristic {
 public:
  void setValue(const uint8_t*, size_t) {}
  bool notify() { return true; }
  NimBLEAttValue getValue() { return {}; }
  void setCallbacks(NimBLECharacteristicCallbacks*) {}
};
class NimBLEService {
 public:
  NimBLECharacteristic* createCharacteristic(const char*, uint32_t) { return nullptr; }
  bool start() { return true; }
};
class NimBLEServer;
class NimBLEServerCallbacks {
 public:
  virtual ~NimBLEServerCallbacks() = default;
  virtual void onConnect(NimBLEServer*, NimBLEConnInfo&) {}
  virtual void onDisconnect(NimBLEServer*, NimBLEConnInfo&, int) {}
  virtual void onMTUChange(uint16_t, NimBLEConnInfo&) {}
};
class NimBLEServer {
 public:
  void setCallbacks(NimBLEServerCallbacks*, bool deleteOld = true) { (void)deleteOld; }
  NimBLEService* createService(const char*) { return nullptr; }
  void updateConnParams(uint16_t, uint16_t, uint16_t, uint16_t, uint16_t) {}
  uint32_t getConnectedCount() const { return 0; }
};
class NimBLEAdvertisementData { public: bool setCompleteServices(const NimBLEUUID&) { return true; } };
class NimBLEAdvertising {
 public:
  bool setName(const std::string&) { return true; }
  bool setScanResponseData(NimBLEAdvertisementData&) { return true; }
  void enableScanResponse(bool) {}
  bool start() { return true; }
};
class NimBLEDevice {
 public:
  static bool init(const std::string&) { return true; }
  static bool deinit(bool) { return true; }
  static int setMTU(uint16_t) { return 0; }
  static NimBLEServer* createServer() { return nullptr; }
  static NimBLEAdvertising* getAdvertising() { return nullptr; }
  static bool startAdvertising() { return true; }
};
