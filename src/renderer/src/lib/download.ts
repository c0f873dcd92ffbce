/** Save text parts as a file through the browser's download (Electron shows a save dialog). */
export function downloadParts(parts: string[], fileName: string, mime: string): void {
  const url = URL.createObjectURL(new Blob(parts, { type: mime }))
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.style.display = 'none'
  document.body.append(a)
  a.click()
  a.remove()
  // The download has its own reference to the data by now; a delay keeps slow engines safe.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
