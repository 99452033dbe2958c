import { defineBulkTests } from './bulk';

// "Mark all" and "Clear completed" act on every todo in the shared database, and the
// paging test needs the newest todos to be its own: these run after every other
// project, one test at a time (playwright.config.ts).
defineBulkTests({ hydrated: true });
