// Copyright 2026 The pollio Authors.
//
// The include path of factory/os_poller.h before the factory moved above the
// backends, kept for code that depends on //poller:os_poller (an alias of the
// target that ships this header). New code includes "factory/os_poller.h".

#ifndef POLLIO_FACTORY_LEGACY_POLLER_OS_POLLER_H_
#define POLLIO_FACTORY_LEGACY_POLLER_OS_POLLER_H_

#include "factory/os_poller.h"  // IWYU pragma: export

#endif  // POLLIO_FACTORY_LEGACY_POLLER_OS_POLLER_H_
