using UnityEngine;

namespace AvatarBridge
{
    /// <summary>
    /// Finding a scene object by type on every Unity version the package supports (package.json:
    /// 2021.3 and newer). <c>Object.FindObjectOfType</c> is obsolete from Unity 2023.1 and warns;
    /// its replacement <c>FindAnyObjectByType</c> exists only from 2021.3.18, 2022.2.5 and 2022.3,
    /// and Unity's version defines stop at minor versions, so the first define that guarantees it
    /// is <c>UNITY_2022_3_OR_NEWER</c>. Older editors keep the call they have, which does not warn
    /// there. <c>FindAnyObjectByType</c> rather than <c>FindFirstObjectByType</c>: callers want any
    /// instance, it is faster, and Unity 6.5 deprecates the "first" variant.
    /// </summary>
    public static class SceneObjects
    {
        /// <summary>An active loaded object of type <typeparamref name="T"/>, or null when there is none.</summary>
        public static T FindAny<T>() where T : Object
        {
#if UNITY_2022_3_OR_NEWER
            return Object.FindAnyObjectByType<T>();
#else
            return Object.FindObjectOfType<T>();
#endif
        }
    }
}
