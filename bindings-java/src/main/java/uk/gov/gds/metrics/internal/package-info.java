/**
 * The bridge to the native core: library loading, native methods and handle lifetimes.
 * Nothing here is a public API; it may change in any release.
 */
package uk.gov.gds.metrics.internal;
