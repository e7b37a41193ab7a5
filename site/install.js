/**
 * "Install" button: shown only where the browser offers installation (beforeinstallprompt,
 * Chromium-based browsers), hidden again once the app is installed or the prompt was used.
 * Elsewhere (Safari: Share > Add to Home Screen; Firefox) the button never appears.
 */
const button = document.getElementById("install");
let offer = null; // the deferred beforeinstallprompt event

addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault(); // no mini-infobar: the button is the offer
  offer = event;
  button.hidden = false;
});

button.addEventListener("click", async () => {
  if (!offer) return;
  const used = offer;
  offer = null;
  button.hidden = true; // a prompt can be shown once
  await used.prompt();
});

addEventListener("appinstalled", () => {
  offer = null;
  button.hidden = true;
});
