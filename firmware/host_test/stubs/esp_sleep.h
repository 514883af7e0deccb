#pragma once
inline void esp_deep_sleep_start() {}
