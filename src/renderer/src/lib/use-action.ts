import { useCallback, useState } from 'react'
import { errorMessage } from '../bridge'

/**
 * Runs bridge calls for a group of controls and keeps the last failure's message for a
 * `role="alert"` next to them. `act` resolves true when the action succeeded.
 */
export function useAction(): {
  error: string | null
  setError: (message: string | null) => void
  act: (action: () => Promise<unknown>) => Promise<boolean>
} {
  const [error, setError] = useState<string | null>(null)
  const act = useCallback(async (action: () => Promise<unknown>): Promise<boolean> => {
    setError(null)
    try {
      await action()
      return true
    } catch (err) {
      setError(errorMessage(err))
      return false
    }
  }, [])
  return { error, setError, act }
}
