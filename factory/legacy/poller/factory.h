// Copyright 2026 The pollio Authors.
//
// The include path of factory/factory.h before the factory moved above the
// backends, kept for code that depends on //poller:factory (an alias of the
// target that ships this header). New code includes "factory/factory.h".

#ifndef POLLIO_FACTORY_LEGACY_POLLER_FACTORY_H_
#define POLLIO_FACTORY_LEGACY_POLLER_FACTORY_H_

#include "factory/factory.h"  // IWYU pragma: export

#endif  // POLLIO_FACTORY_LEGACY_POLLER_FACTORY_H_
