// libmosquitto, the Eclipse MQTT client library, with the MQTT v5 property identifiers.
#include <mosquitto.h>
#include <mqtt_protocol.h>
