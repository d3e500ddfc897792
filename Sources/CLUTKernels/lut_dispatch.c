#include "lut_kernels.h"
