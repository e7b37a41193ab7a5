/**
 * Offline support: registers sw.js (which precaches the whole app) once the page has started.
 *
 * Optional by design: without service workers (file://, plain http on a LAN address, old or
 * locked-down browsers) or when registration fails, the app works as before and this module
 * only logs a console warning. It waits until the app has left its loading state, so the
 * worker's downloads do not compete with the first start.
 */
const START_TIMEOUT_MS = 60_000;

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return; // file://, insecure origin or no support
  await appStarted();
  if (!navigator.onLine && navigator.serviceWorker.controller) {
    await showWhenOffline(); // nothing to update now, but the cache is there
    return;
  }
  const hadController = Boolean(navigator.serviceWorker.controller);
  // A new version that takes over while this page is still loading: start again with it.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (hadController && document.body.dataset.state === "loading") location.reload();
  });
  // updateViaCache "none": update checks bypass the HTTP cache for sw.js and precache.js.
  await navigator.serviceWorker.register("./sw.js", { updateViaCache: "none" });
  await showWhenOffline();
}

/** Show "Works offline" once an active worker's cache holds the whole app. */
async function showWhenOffline() {
  const registration = await navigator.serviceWorker.ready;
  // sw.js writes this entry last, after every file was fetched and its hash checked.
  const complete = await caches.match(new URL("__precache__.json", registration.scope).href);
  if (complete) document.getElementById("offline-ready").hidden = false;
}

/** Resolves once the page has loaded and the app reports ready or error (or after a timeout). */
function appStarted() {
  return new Promise((resolve) => {
    const started = () =>
      document.readyState === "complete" && document.body.dataset.state !== "loading";
    if (started()) return resolve();
    const check = () => started() && done();
    const observer = new MutationObserver(check);
    const timer = setTimeout(done, START_TIMEOUT_MS);
    function done() {
      observer.disconnect();
      clearTimeout(timer);
      removeEventListener("load", check);
      resolve();
    }
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
    addEventListener("load", check);
  });
}

registerServiceWorker().catch((error) =>
  console.warn(`Offline mode unavailable: ${error?.message ?? error}`),
);
