#pragma once
#include <stdint.h>
struct TwoWire { bool begin(int, int) { return true; } void setClock(uint32_t) {} };
extern TwoWire Wire;
