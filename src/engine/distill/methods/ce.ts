/**
 * CE: the student alone, trained on the labels (the baseline every method is compared with). No teacher, no
 * parameters; terms `ce` and `total` (with fraction < 1 labelled, CE over the labelled images of each batch).
 */
import { singleMethod } from './compose';

export const ceMethod = singleMethod(
  {
    id: 'ce',
    label: 'Cross-entropy (no teacher)',
    summary: 'The student trained alone on the labels: the baseline.',
    defaultsFrom: 'no parameters',
    needsTeacher: false,
  },
  null,
);
