import { defineBulkTests } from './bulk';

// As bulk-hydrated.spec.ts, with JavaScript disabled: every control a plain form post.
defineBulkTests({ hydrated: false });
