/* export_doc: a run's inputs, outputs and training states as the exported
 * header's comment lines. */
#ifndef ET_EXPORT_DOC_H
#define ET_EXPORT_DOC_H

#include "run.h"

/* Lines " * ...\n" for et_export_info.doc (free() them): each input's name
 * and scaling (the simulator's ADC conversion; a source's names and units),
 * each output's name, unit and step, the states trained on (the pose box
 * and the rotation convention; else each target's range over the training
 * pool, which a program or plugin source fills again). NULL, reported, if
 * the pool cannot be read. */
char *et_export_doc(et_run *r);

#endif
