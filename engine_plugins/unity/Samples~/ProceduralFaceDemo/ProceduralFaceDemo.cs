using AvatarBridge.Protocol;
using UnityEngine;

namespace AvatarBridge.Samples
{
    /// <summary>
    /// Self-contained demo: builds a face with the 52 ARKit blendshapes, wires a receiver and a
    /// <see cref="BlendshapeDriver"/> to it, and turns the head with the received Neck and Head
    /// rotations (this mesh has no humanoid rig, so it reads the frame directly, which also shows
    /// how scripts can use <see cref="AvatarBridgeReceiver.LatestFrame"/>). Adds a camera and a
    /// light when the scene has none, so it works in an empty scene.
    /// </summary>
    [AddComponentMenu("Avatar Bridge/Samples/Procedural Face Demo")]
    public sealed class ProceduralFaceDemo : MonoBehaviour
    {
        [SerializeField] private TransportKind transport = TransportKind.VmcUdp;

        [Tooltip("Seconds for the head to follow a new rotation.")]
        [Range(0f, 0.5f)]
        [SerializeField] private float headSmoothing = 0.05f;

        private static readonly string[] ShaderNames = { "Universal Render Pipeline/Lit", "HDRP/Lit", "Standard", "Unlit/Color" };

        private AvatarBridgeReceiver receiver;
        private Transform head;
        private Quaternion headTarget = Quaternion.identity;
        private int seenVersion = -1;

        private void Start()
        {
            receiver = SceneObjects.FindAny<AvatarBridgeReceiver>();
            if (receiver == null)
            {
                receiver = gameObject.AddComponent<AvatarBridgeReceiver>();
                receiver.Transport = transport;
            }

            var face = new GameObject("Procedural Face");
            face.transform.SetParent(transform, false);
            head = face.transform;
            var skinned = face.AddComponent<SkinnedMeshRenderer>();
            skinned.sharedMesh = ProceduralFaceMesh.Build();
            skinned.sharedMaterials = new[]
            {
                MakeMaterial(new Color(0.96f, 0.8f, 0.69f)),
                MakeMaterial(Color.white),
                MakeMaterial(new Color(0.12f, 0.08f, 0.08f)),
                MakeMaterial(new Color(0.85f, 0.3f, 0.35f)),
            };
            skinned.updateWhenOffscreen = true;

            var driver = gameObject.AddComponent<BlendshapeDriver>();
            driver.Receiver = receiver;
            driver.Renderers.Add(skinned);
            driver.Rebind();

            if (Camera.main == null)
            {
                var cam = new GameObject("Demo Camera", typeof(Camera)) { tag = "MainCamera" };
                cam.transform.SetPositionAndRotation(transform.position + new Vector3(0f, 0f, 0.45f), Quaternion.Euler(0f, 180f, 0f));
                cam.GetComponent<Camera>().nearClipPlane = 0.01f;
            }
            if (SceneObjects.FindAny<Light>() == null)
            {
                var light = new GameObject("Demo Light", typeof(Light));
                light.GetComponent<Light>().type = LightType.Directional;
                light.transform.rotation = Quaternion.Euler(20f, 160f, 0f);
            }
        }

        private void LateUpdate()
        {
            if (receiver == null)
            {
                return;
            }
            FrameData frame = receiver.LatestFrame;
            if (frame != null && receiver.FrameVersion != seenVersion)
            {
                seenVersion = receiver.FrameVersion;
                int neck = frame.FindBone("Neck");
                int headBone = frame.FindBone("Head");
                Quaternion q = Quaternion.identity;
                if (neck >= 0)
                {
                    q *= frame.BoneRotations[neck].ToUnity();
                }
                if (headBone >= 0)
                {
                    q *= frame.BoneRotations[headBone].ToUnity();
                }
                headTarget = q;
            }
            head.localRotation = Quaternion.Slerp(head.localRotation, headTarget, RetargetMath.SmoothingFactor(Time.deltaTime, headSmoothing));
        }

        private void OnGUI()
        {
            if (receiver == null)
            {
                return;
            }
            GUI.Label(new Rect(10f, 10f, 600f, 40f), "Avatar Bridge: " + receiver.State + "  " + receiver.StateDetail);
        }

        private static Material MakeMaterial(Color color)
        {
            foreach (string name in ShaderNames)
            {
                Shader shader = Shader.Find(name);
                if (shader != null)
                {
                    return new Material(shader) { color = color };
                }
            }
            return new Material(Shader.Find("Hidden/InternalErrorShader"));
        }
    }
}
