/**
 * Keyboard shortcuts for the drawing: Ctrl/Cmd+Z undo, Ctrl/Cmd+Shift+Z or Ctrl+Y redo, Esc clear.
 *
 * They step aside wherever the key already means something: in text fields (their own undo), and
 * for Esc in any control that uses it (fields, selects, open dialogs, menus, listboxes).
 */

/** Elements whose own keyboard handling includes Escape and the undo keys. */
const OWN_KEYS = [
  "input",
  "textarea",
  "select",
  "[contenteditable]:not([contenteditable='false'])",
  "[role=textbox]",
  "[role=combobox]",
  "[role=listbox]",
  "[role=menu]",
  "[role=menubar]",
  "[role=slider]",
  "[role=spinbutton]",
].join(", ");

function keysBelongTo(target) {
  return target instanceof Element && target.closest(OWN_KEYS) !== null;
}

/** Esc closes an open dialog or popover: never clear the drawing behind it as well. */
function escapeIsTaken(target) {
  if (keysBelongTo(target)) return true;
  if (target instanceof Element && target.closest("dialog, [role=dialog], [role=alertdialog]")) {
    return true;
  }
  return document.querySelector("dialog[open], :popover-open") !== null;
}

/** @param {{undo(): void, redo(): void, clear(): void}} drawing */
export function installShortcuts(drawing) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const key = event.key.toLowerCase();
    const command = event.ctrlKey || event.metaKey;
    if (key === "escape" && !command) {
      if (escapeIsTaken(event.target)) return;
      drawing.clear();
    } else if (command && !event.altKey && (key === "z" || (key === "y" && !event.shiftKey))) {
      if (keysBelongTo(event.target)) return;
      event.preventDefault();
      if (key === "y" || event.shiftKey) drawing.redo();
      else drawing.undo();
    }
  });
}
