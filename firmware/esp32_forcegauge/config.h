// Build-time choices for the DIY force gauge. Edit this file, then flash.

#pragma once

// ---- Load-cell ADC: exactly one of these ------------------------------------------
// HX711: 10 or 80 samples/s (tie its RATE pin to 3V3 for 80). Cheap, common breakouts.
// NAU7802: up to 320 samples/s over I2C (SparkFun Qwiic Scale, Adafruit 4538).
#ifndef FORCEGAUGE_ADC_NAU7802
#define FORCEGAUGE_ADC_NAU7802 0
#endif
#ifndef FORCEGAUGE_ADC_HX711
#define FORCEGAUGE_ADC_HX711 (!FORCEGAUGE_ADC_NAU7802)
#endif

// ---- Pins (ESP32 DevKitC / WROOM-32 numbering) --------------------------------------
#define PIN_HX711_DOUT 16
#define PIN_HX711_SCK 17
#define PIN_I2C_SDA 21
#define PIN_I2C_SCL 22
// Battery voltage through a divider (two 100 kOhm resistors: ratio 2.0) on an ADC1 pin.
#define PIN_BATTERY 34
#define BATTERY_DIVIDER_RATIO 2.0f
// Status LED (on while connected). -1 for none.
#define PIN_LED 2

// ---- Sample rate ----------------------------------------------------------------------
// HX711: 80 (RATE pin high) or 10. NAU7802: 10, 20, 40, 80 or 320.
#ifndef FORCEGAUGE_RATE_HZ
#define FORCEGAUGE_RATE_HZ 80
#endif

// ---- Calibration -----------------------------------------------------------------------
// Grip Connect calibrates with a bare 0x69 and sends no weight: its first capture is the
// zero point, the next one stands for this weight, kg. Set it to the weight you hang
// (docs/diy.md, "Calibration"). The [0x69][f32 kg] form carries its own weight instead.
#ifndef FORCEGAUGE_REFERENCE_KG
#define FORCEGAUGE_REFERENCE_KG 20.0f
#endif

// ---- Identity ---------------------------------------------------------------------------
// Advertised as "Progressor_<id>"; the id is the last two bytes of the MAC unless set.
// #define FORCEGAUGE_ID "0001"
#define FORCEGAUGE_FIRMWARE "isogrip-fw 1.0.0"
