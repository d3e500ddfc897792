// json-c, the JSON parser and serializer the agent uses for every MQTT document.
#include <json-c/json.h>
