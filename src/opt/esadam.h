/* esadam: "es-adam" behind opt.h (search gradient from mirrored pairs and
 * centred ranks, Adam steps). This header only wires the backend into
 * the table (algos.c). */
#ifndef ET_ESADAM_H
#define ET_ESADAM_H

#ifdef ET_OPT_INTERNAL
extern const et_opt_backend et_opt_be_esadam;
#endif

#endif
