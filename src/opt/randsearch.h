/* randsearch: random search behind opt.h: "rs-1+lambda" (elitist, success
 * rule) and "rs-mu,lambda" / "rs-antithetic" (mirrored pairs, CSA). This
 * header only wires the backends into the table (algos.c). */
#ifndef ET_RANDSEARCH_H
#define ET_RANDSEARCH_H

#ifdef ET_OPT_INTERNAL
extern const et_opt_backend et_opt_be_rs1plus, et_opt_be_rscomma;
#endif

#endif
