import { defineBulkTests } from './bulk';

// "Mark all", "Clear completed" and paging, hydrated. They act on every todo of the
// test's own list, so they run alongside the other tests (playwright.config.ts).
defineBulkTests({ hydrated: true });
